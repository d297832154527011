"""`jisr-kg find TEXT` and `jisr_kg.find`: things by part of their name, case and accents ignored, exact
matches first."""

from __future__ import annotations

import json

from conftest import jisr


def test_find_ignores_case_and_accents_and_puts_exact_first() -> None:
    r = jisr("find", "dara")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.decode().splitlines()
    # "Darā" is another name of Daraa: an exact match once the accent is ignored, so it comes first
    assert lines[0].split()[:3] == ["place:daraa", "Settlement", "Daraa"]
    assert "Darā" in lines[0]
    # the claim that quotes "Darā" is found too, after the exact match
    assert any(line.startswith("claim:coin-mobilisation-daraa ") for line in lines[1:])


def test_find_upper_case_and_several_words() -> None:
    r = jisr("find", "JISR", "ASH", "--limit", "3")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.decode().splitlines()
    assert len(lines) == 3
    assert lines[0].startswith("place:jisr-ash-shughur ")


def test_find_json_gives_kind_prefixed_name_and_iri() -> None:
    r = jisr("find", "landis", "--format", "json")
    assert r.returncode == 0, r.stderr
    found = json.loads(r.stdout)
    first = found[0]
    assert first["name"] == "actor:joshua-landis"
    assert first["iri"] == "https://w3id.org/jisr-kg/id/actor/joshua-landis"
    assert first["kind"] == "Person"
    assert all("landis" in m["matched"].lower() for m in found)
    assert any(m["kind"] == "Claim" for m in found)


def test_find_nothing_exits_1_with_one_line() -> None:
    r = jisr("find", "no-such-thing-anywhere")
    assert r.returncode == 1
    assert r.stdout == b""
    assert r.stderr.decode().strip() == "jisr-kg: nothing found for 'no-such-thing-anywhere'"


def test_python_api() -> None:
    import jisr_kg
    from jisr_kg.search import fold

    assert fold("Darā") == fold("DARA") == "dara"
    matches = jisr_kg.find("dara")
    assert matches[0].name == "place:daraa" and matches[0].exact
    assert [m.exact for m in matches] == sorted((m.exact for m in matches), reverse=True)
    assert jisr_kg.find("   ") == []
    assert len(jisr_kg.find("a", limit=5)) == 5
