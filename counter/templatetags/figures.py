"""``{{ n|thousands }}``: a count with thousands separators, as the badges show it (1,234)."""

from django import template

register = template.Library()


@register.filter
def thousands(value) -> str:
    return f"{value:,}" if isinstance(value, int) else str(value)
