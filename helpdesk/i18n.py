"""Flask-Babel with the catalogue found once per request instead of once per string.

Flask-Babel looks up the babel context, the locale, the locale's name and the catalogue
for every string it translates, about 13 µs each; a ticket page translates some 140
strings, so that was 2 ms of every page. Here the catalogue is remembered on the
request's babel context beside the `Locale` object it belongs to: `force_locale` and
`refresh()` replace or drop that object, so a changed language is still seen at once.
"""

from __future__ import annotations

from flask import Flask, g, has_app_context
from flask_babel import Babel, Domain
from jinja2 import pass_context
from markupsafe import Markup
from werkzeug.utils import cached_property


class CataloguePerLocale(Domain):
    def get_translations(self):
        state = g.get("_flask_babel") if has_app_context() else None
        locale = getattr(state, "babel_locale", None)
        remembered = getattr(state, "helpdesk_catalogue", None)
        if locale is not None and remembered is not None and remembered[0] is locale:
            return remembered[1]
        translations = super().get_translations()  # also settles the locale
        state = g.get("_flask_babel") if has_app_context() else None
        if state is not None:
            state.helpdesk_catalogue = (getattr(state, "babel_locale", None), translations)
        return translations


class HelpdeskBabel(Babel):
    @cached_property
    def domain_instance(self) -> Domain:
        return CataloguePerLocale(domain=self.domain)

    def init_app(self, app: Flask, **options) -> None:
        super().init_app(app, **options)
        catalogue = self._catalogue
        # Looked up per string: for macros imported without the render's context.
        gettext, ngettext = _jinja_translators(
            lambda string: catalogue().ugettext(string),
            lambda singular, plural, num: catalogue().ungettext(singular, plural, num),
        )
        app.jinja_env.globals.update(_=gettext, gettext=gettext, ngettext=ngettext)

        @app.context_processor
        def bound_to_this_render() -> dict:
            """For each render_template: `_` and `ngettext` bound to the catalogue in force
            now (also under force_locale), so a page's hundred strings skip the look-up."""
            translations = catalogue()
            gettext, ngettext = _jinja_translators(translations.ugettext, translations.ungettext)
            return {"_": gettext, "gettext": gettext, "ngettext": ngettext}

    def _catalogue(self):
        return self.domain_instance.get_translations()


def _jinja_translators(ugettext, ungettext):
    """Jinja's newstyle gettext and ngettext over these look-ups, without its three
    `Context.call`s per string."""

    @pass_context
    def gettext(context, string, /, **variables):
        text = ugettext(string)
        return (Markup(text) if context.eval_ctx.autoescape else text) % variables

    @pass_context
    def ngettext(context, singular, plural, num, /, **variables):
        variables.setdefault("num", num)
        text = ungettext(singular, plural, num)
        return (Markup(text) if context.eval_ctx.autoescape else text) % variables

    return gettext, ngettext
