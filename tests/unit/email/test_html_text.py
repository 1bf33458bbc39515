"""html_to_text: what a reader sees in an HTML mail, as plain text."""

from __future__ import annotations

import pytest

from channel_adapters.email.html_text import html_to_text


def test_paragraphs_are_separated_by_a_blank_line_and_br_breaks_a_line():
    html = "<p>Hallo Team,</p><p>Bestellung 100234<br>ist da.</p>"

    assert html_to_text(html) == "Hallo Team,\n\nBestellung 100234\nist da."


def test_divs_break_lines_without_blank_lines():
    assert html_to_text("<div>eins</div><div>zwei</div>") == "eins\nzwei"


def test_list_items_get_a_dash_and_nested_lists_are_indented():
    html = "<p>Es fehlen:</p><ul><li>Kanne</li><li>Filter<ul><li>Größe 4</li></ul></li></ul>"

    assert html_to_text(html) == "Es fehlen:\n\n- Kanne\n- Filter\n  - Größe 4"


def test_links_keep_their_text_only():
    html = '<p>Siehe <a href="https://shop.example/track?id=1">Sendungsverfolgung</a>.</p>'

    assert html_to_text(html) == "Siehe Sendungsverfolgung."


def test_scripts_styles_and_the_title_are_dropped():
    html = (
        "<html><head><title>Nachricht</title><style>p { color: red }</style>"
        "<script>alert(1)</script></head><body><p>Text</p></body></html>"
    )

    assert html_to_text(html) == "Text"


def test_entities_are_decoded():
    html = "<p>Gr&ouml;&szlig;e M &amp; L &ndash; 24,90&nbsp;&euro; &#8222;neu&#8220;</p>"

    assert html_to_text(html) == "Größe M & L – 24,90 € „neu“"


def test_whitespace_collapses_to_single_spaces():
    html = "<p>\n   Bitte   prüfen\n\tSie\n   das.  </p>"

    assert html_to_text(html) == "Bitte prüfen Sie das."


def test_blockquotes_become_quoted_lines():
    html = "<div>Danke!</div><blockquote><p>Ihre Bestellung</p><p>wurde versandt.</p></blockquote>"

    assert html_to_text(html) == "Danke!\n\n> Ihre Bestellung\n>\n> wurde versandt."


def test_outlook_paragraphs_are_lines_and_nbsp_paragraphs_blank_lines():
    html = (
        '<p class="MsoNormal">Guten Tag,<o:p></o:p></p>'
        '<p class="MsoNormal"><o:p>&nbsp;</o:p></p>'
        '<p class="MsoNormal">die Rücksendung ist unterwegs.<o:p></o:p></p>'
        '<p class="MsoNormal">Markus Schneider<o:p></o:p></p>'
    )

    assert html_to_text(html) == "Guten Tag,\n\ndie Rücksendung ist unterwegs.\nMarkus Schneider"


def test_preformatted_text_keeps_its_spaces_and_lines():
    assert (
        html_to_text("<pre>Artikel   Menge\nKanne       1</pre>")
        == "Artikel   Menge\nKanne       1"
    )


def test_table_cells_are_separated_and_rows_are_lines():
    html = (
        "<table><tr><td>Artikel</td><td>Preis</td></tr>"
        "<tr><td>Kanne</td><td>19,90</td></tr></table>"
    )

    assert html_to_text(html) == "Artikel Preis\nKanne 19,90"


@pytest.mark.parametrize(
    "html",
    [
        "<p>offen <b>fett <i>kursiv</p> weiter",
        "</div></p>Text</blockquote>",
        "<ul><li>eins<li>zwei",
        "<scr<ipt>x</script>",
        "",
    ],
)
def test_malformed_markup_never_raises(html):
    assert isinstance(html_to_text(html), str)
