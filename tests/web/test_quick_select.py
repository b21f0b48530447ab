"""QuickSelect writes the markup Django's Select writes, escaped the same way."""

from __future__ import annotations

import pytest
from django import forms
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy, override

from ucfleet.web.forms.widgets import QuickSelect

CHOICES = [
    ("", gettext_lazy("all partners")),
    ("1", "Müller & Söhne <GmbH>"),
    ("2", 'He said "hi"'),
    ("3", mark_safe("<b>safe</b>")),
    ("4'x", "O'Brien"),
]


@pytest.mark.parametrize("value", [None, "", "1", "4'x", "missing"])
@pytest.mark.parametrize("attrs", [None, {"id": "id_partner", "data-x": 'a"b', "disabled": True}])
def test_same_markup_as_django(value: str | None, attrs: dict[str, object] | None) -> None:
    with override("de"):
        quick = QuickSelect(choices=CHOICES).render("partner", value, attrs)
        django = forms.Select(choices=CHOICES).render("partner", value, attrs)
    assert quick == django
    assert "Müller &amp; Söhne &lt;GmbH&gt;" in quick
    assert "He said &quot;hi&quot;" in quick
    assert "<b>safe</b>" in quick
    assert 'value="4&#x27;x"' in quick
