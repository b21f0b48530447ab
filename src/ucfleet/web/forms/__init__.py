"""Portal forms, one module per area. They validate input; services decide the rules."""

from ucfleet.web.forms.auth import LanguageForm, LoginForm

__all__ = ["LanguageForm", "LoginForm"]
