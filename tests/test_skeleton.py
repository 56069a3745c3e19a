"""HTML from per-shape skeletons is byte-for-byte the template's own output."""
import jinja2
from markupsafe import escape
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from medwatch_tool import render as render_module
from medwatch_tool.draft import build_draft, draft_values, read_draft
from medwatch_tool.render import render
from medwatch_tool.skeleton import SkeletonRenderer

from helpers import EXAMPLES


@pytest.mark.parametrize("form", ["3500", "3500B"])
def test_every_example_in_both_forms(form):
    renderer = SkeletonRenderer()
    for path in sorted(EXAMPLES.glob("*.xml")):
        values = draft_values(read_draft(path))
        values["admin/form"] = form
        for text in ("first", "second <&> \"quoted\"", "third"):  # one shape, three drafts
            values["event/description"] = text
            root = build_draft(values)
            assert renderer(root) == render(root, to="html")
    assert renderer.hits >= 2 * renderer.misses


_text = st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=30).filter(str.strip)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(description=_text, name=_text, follow_up=st.sampled_from(["", "0", "1", "7"]),
       weight=st.sampled_from(["", "70", "70.5"]))
def test_any_values_render_like_the_template(description, name, follow_up, weight):
    values = draft_values(read_draft(EXAMPLES / "baclofen-pump-catheter-kink.xml"))
    values.update({"event/description": description, "suspect_product[1]/name": name,
                   "admin/follow_up": follow_up, "patient/weight": weight})
    root = build_draft(values)
    renderer = _SHARED
    assert renderer(root) == render(root, to="html")


_SHARED = SkeletonRenderer()


def test_a_template_that_transforms_values_falls_back_to_full_rendering(monkeypatch):
    """A value the template changes (here: upper-cased) cannot come from a skeleton."""
    env = jinja2.Environment(autoescape=True)
    template = env.from_string("{% for s in sections %}{% for b in s.blocks %}{% for i in b.items %}"
                               "{% if i.kind == 'row' %}[{{ i.value | upper }}]{% endif %}"
                               "{% endfor %}{% endfor %}{% endfor %}")

    class Env:
        def get_template(self, name):
            return template

    monkeypatch.setattr(render_module, "environment", lambda: Env())
    root = read_draft(EXAMPLES / "baclofen-overdose.xml")
    renderer = SkeletonRenderer()
    first, second = renderer(root), renderer(root)
    description = root.findtext("{*}event/{*}description").strip()
    assert description != description.upper()
    assert first == second == render(root, to="html")
    assert f"[{escape(description.upper())}]" in first
    assert list(renderer.cache.values()) == [None]  # the shape is marked: always rendered in full


def test_shape_from_written_leaves_matches_the_tree():
    """Batch passes draft_document's leaves instead of walking the tree: same pages, and a
    draft whose leaves and tree disagree is rendered in full, never from a wrong skeleton."""
    from medwatch_tool.draft import draft_document, parse_draft

    renderer = SkeletonRenderer()
    for path in sorted(EXAMPLES.glob("*.xml")):
        values = draft_values(read_draft(path))
        for text in ("one", "two & three", "  four  "):
            values["event/description"] = text
            data, leaves = draft_document(values)
            root = parse_draft(data)
            assert renderer(root, leaves) == render(root, to="html") == renderer(root)
    values = draft_values(read_draft(EXAMPLES / "baclofen-overdose.xml"))
    data, leaves = draft_document(values)
    other = build_draft(dict(values, **{"event/description": "not what the leaves say"}))
    fresh = SkeletonRenderer()
    assert fresh(other, leaves) == render(other, to="html") == fresh(other, leaves)
