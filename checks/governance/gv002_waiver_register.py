"""GV002 waiver-register: every waiver in the policy is current and none runs open-ended."""

from __future__ import annotations

import datetime as dt
from typing import Any

from auditor.contract.check import Check, Param, Threshold
from auditor.contract.results import Evidence, Findings, Metric


def _audit_date(ctx) -> dt.date:
    today = getattr(ctx, "today", None)
    return today if isinstance(today, dt.date) else dt.date.today()


def _date(value: Any) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        return None


class WaiverRegister(Check):
    """Waivers are current: none expired, none about to lapse unnoticed, none open-ended

    What it checks:
        Every waiver in the policy against the audit's date: how many have expired, how
        many expire within ``notice_days``, and the longest time any waiver still runs.
        (A waiver without a check, reason, owner or expiry date is refused when the
        policy is read, so every waiver here names all four.)
    Why it matters:
        A waiver records an accepted risk and who accepted it. An expired waiver no
        longer waives, so the finding it covered counts against the gate again, and the
        register shows a decision nobody has renewed. A waiver that runs for years is an
        exception that has quietly become policy. Accepted risks need an owner and a
        review date that is kept (NIST AI RMF MANAGE 1.3, EU AI Act Art. 9).
    How to fix:
        Review each expired or expiring waiver with its owner: fix the finding and
        remove the waiver, or renew it with a new expiry date and a current reason.
        Keep expiry dates within a year so that each accepted risk is reviewed.
    References:
        NIST AI 100-1, AI Risk Management Framework 1.0 (2023), MANAGE 1.3.
        ISO 31000:2018 Risk management, 6.5 Risk treatment.
    """

    id = "GV002"
    name = "waiver-register"
    area = "governance"
    engine_rows = "all"  # reads the policy and the model card, never rows
    severity = "medium"
    params = {
        "notice_days": Param(default=30, kind="int", low=0, high=3650,
                             help="a waiver expiring within this many days of the audit is reported as expiring soon"),
    }
    thresholds = {
        "expired_waivers": Threshold(direction="above", fail=0, low=0, help="waivers past their expiry date"),
        "expiring_soon": Threshold(direction="above", warn=0, low=0, help="waivers expiring within notice_days"),
        "longest_waiver_days": Threshold(direction="above", warn=365, low=0,
                                         help="days until the latest expiry among waivers still in force"),
    }
    practices = ("P8.4",)
    clauses = ("eu_ai_act:Art. 9", "eu_ai_act:Art. 14", "nist_ai_rmf:MEASURE 2.8", "nist_ai_rmf:MANAGE 1.3")

    def run(self, ctx, params):
        today = _audit_date(ctx)
        waivers = [w for w in (ctx.policy or {}).get("waivers") or [] if isinstance(w, dict)]
        rows, expired, soon, longest = [], 0, 0, 0
        for w in waivers:
            expires = _date(w.get("expires"))
            if expires is None:
                state, days = "no valid expiry date", None
                expired += 1
            else:
                days = (expires - today).days
                if days < 0:
                    state = "expired"
                    expired += 1
                elif days <= params["notice_days"]:
                    state = "expires soon"
                    soon += 1
                    longest = max(longest, days)
                else:
                    state = "in force"
                    longest = max(longest, days)
            rows.append([str(w.get("check") or "—"), str(w.get("owner") or "—"), str(w.get("reason") or "—"),
                         expires.isoformat() if expires else str(w.get("expires")), days, state])
        metrics = {
            "expired_waivers": Metric(expired, description=f"of {len(waivers)} waivers, as of {today.isoformat()}"),
            "expiring_soon": Metric(soon, description=f"waivers expiring within {params['notice_days']} days"),
            "longest_waiver_days": Metric(longest, description="days until the latest expiry among waivers in force"),
        }
        if not waivers:
            return Findings(summary="The policy records no waivers: every finding stands as measured.", metrics=metrics)
        parts = [f"{len(waivers)} waiver{'s' if len(waivers) != 1 else ''} recorded"]
        if expired:
            parts.append(f"{expired} expired")
        if soon:
            parts.append(f"{soon} expiring within {params['notice_days']} days")
        recommendation = ""
        if expired or soon:
            recommendation = "Review the expired and expiring waivers with their owners: fix the finding, or renew the waiver with a current reason."
        elif longest > 365:
            recommendation = "Shorten waivers that run for more than a year so that each accepted risk is reviewed."
        return Findings(
            summary="; ".join(parts) + f" (as of {today.isoformat()}).",
            metrics=metrics,
            evidence=[Evidence(title="Waivers", columns=["check", "owner", "reason", "expires", "days left", "state"],
                               rows=rows)],
            recommendation=recommendation,
        )
