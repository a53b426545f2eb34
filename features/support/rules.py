"""Naming the rule a step checks: `@checks("RULE-ID")` under the step decorator."""

from __future__ import annotations

from opcp.rules import RULES

ATTRIBUTE = "__opcp_rule__"


def checks(rule_id: str):
    rule = RULES[rule_id]  # an unknown id fails at import, not at the first failure

    def mark(function):
        setattr(function, ATTRIBUTE, rule)
        return function

    return mark


def rule_of(step_func):
    return getattr(step_func, ATTRIBUTE, None)
