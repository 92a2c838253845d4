"""Pipeline strings: parsing, typed options, named pipelines and their errors."""

from __future__ import annotations

import pytest

from graphc.errors import PassError
from graphc.passes import NAMED_PIPELINES, format_pipeline, parse_pipeline
from graphc.passes.canonicalize import Canonicalize
from graphc.passes.fold_constants import FoldConstants
from graphc.passes.infer_shapes import InferShapes


def names(text: str) -> list[str]:
    return [p.name for p in parse_pipeline(text)]


def test_issue_example_parses_with_typed_option():
    passes = parse_pipeline("infer-shapes,fold-constants{max-elements=4096},cse,dce,fuse")
    assert [p.name for p in passes] == ["infer-shapes", "fold-constants", "cse", "dce", "fuse"]
    assert passes[1] == FoldConstants(max_elements=4096)
    assert isinstance(passes[1].max_elements, int)


def test_empty_pipeline_and_o0_run_nothing():
    assert parse_pipeline("") == [] and parse_pipeline("O0") == [] and parse_pipeline(" ") == []


def test_named_pipelines_expand_in_place():
    assert names("default") == ["infer-shapes", "canonicalize", "fold-constants", "cse",
                                "canonicalize", "dce", "fuse"]
    assert names("O2") == names("default")
    assert names("O1") == names("simplify")
    assert names("cse,simplify,fuse")[0] == "cse" and names("cse,simplify,fuse")[-1] == "fuse"
    for name in NAMED_PIPELINES:
        parse_pipeline(name)  # every named pipeline is valid


@pytest.mark.parametrize("text, expected", [
    ("canonicalize{fast-math=true}", Canonicalize(fast_math=True)),
    ("canonicalize{fast-math=false}", Canonicalize()),
    ("infer-shapes{bind=N:32}", InferShapes(bind=(("N", 32),))),
    ("infer-shapes{bind=T:8,N:32}", InferShapes(bind=(("N", 32), ("T", 8)))),
    (" fold-constants { max-elements=0 } ", FoldConstants(max_elements=0)),
])
def test_option_values(text, expected):
    assert parse_pipeline(text) == [expected]


def test_spec_round_trips_through_the_parser():
    passes = parse_pipeline("infer-shapes{bind=N:4,B:2},canonicalize{fast-math=true},"
                            "fold-constants{max-elements=7},cse,dce,fuse{max-ops=3}")
    text = format_pipeline(passes)
    assert text == ("infer-shapes{bind=B:2,N:4},canonicalize{fast-math=true},"
                    "fold-constants{max-elements=7},cse,dce,fuse{max-ops=3}")
    assert parse_pipeline(text) == passes


def test_several_options_separated_by_spaces_or_commas():
    (fuse,) = parse_pipeline("fuse{max-ops=3 max-inline-constant=0}")
    assert (fuse.max_ops, fuse.max_inline_constant) == (3, 0)
    (fuse,) = parse_pipeline("fuse{max-ops=3,max-inline-constant=1}")
    assert (fuse.max_ops, fuse.max_inline_constant) == (3, 1)


def test_unknown_pass_lists_valid_passes_and_suggests():
    with pytest.raises(PassError) as info:
        parse_pipeline("cse,canonicalise")
    text = str(info.value)
    assert "unknown pass 'canonicalise'" in text and "did you mean 'canonicalize'" in text
    for name in ("infer-shapes", "fold-constants", "cse", "dce", "fuse", "default", "O0"):
        assert name in text


def test_unknown_option_lists_the_pass_options():
    with pytest.raises(PassError) as info:
        parse_pipeline("fold-constants{max-elems=3}")
    text = str(info.value)
    assert "no option 'max-elems'" in text and "max-elements: int = 4096" in text


@pytest.mark.parametrize("text, fragment", [
    ("fold-constants{max-elements=lots}", "expects a value of type int, received 'lots'"),
    ("canonicalize{fast-math=maybe}", "expected true or false"),
    ("infer-shapes{bind=N}", "expected SYMBOL:SIZE"),
    ("infer-shapes{bind=N:3,N:4}", "bound twice"),
    ("fold-constants{max-elements=-1}", "max-elements must be >= 0"),
    ("fuse{max-ops=0}", "max-ops must be >= 1"),
    ("fuse{max-ops=1 max-ops=2}", "given twice"),
    ("cse{", "missing '}'"),
    ("cse}", "unmatched '}'"),
    ("cse,,dce", "empty item"),
    ("cse dce", "unexpected 'dce'"),
    ("default{max-ops=1}", "takes no options"),
    ("fuse{3}", "expected KEY=VALUE"),
])
def test_malformed_pipelines_are_pass_errors(text, fragment):
    with pytest.raises(PassError) as info:
        parse_pipeline(text)
    assert fragment in str(info.value)


def test_passes_are_frozen_and_hashable():
    p = FoldConstants(max_elements=3)
    with pytest.raises(Exception):
        p.max_elements = 4  # type: ignore[misc]
    assert hash(p) == hash(FoldConstants(max_elements=3))


def test_pipeline_list_mixes_objects_and_text():
    passes = parse_pipeline([FoldConstants(max_elements=1), "cse,dce"])
    assert [p.name for p in passes] == ["fold-constants", "cse", "dce"]
