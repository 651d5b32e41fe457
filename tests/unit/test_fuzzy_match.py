from desktop.fuzzy_match import fuzzy_score, rank


def test_subsequence_required():
    assert fuzzy_score("wbk", "web-backend") is not None
    assert fuzzy_score("xyz", "web-backend") is None
    assert fuzzy_score("", "anything") == 0


def test_word_starts_and_runs_rank_first():
    names = ["network-debug", "web-backend-1", "newbie", "wobbly-bank"]
    assert rank("wb", names, key=str)[0] == "web-backend-1"
    assert rank("back", names, key=str)[0] == "web-backend-1"
    assert rank("net", names, key=str)[0] == "network-debug"


def test_case_and_spaces_ignored():
    assert fuzzy_score("Web B", "web-backend") is not None
