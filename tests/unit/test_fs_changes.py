"""The filesystem-changes tree: counts and sizes roll up to folders, filters keep the folders
above what matches."""

from desktop.state.fs_changes import ChangeTree

DIFF = [{"Path": "/etc", "Kind": 0}, {"Path": "/etc/passwd", "Kind": 0}, {"Path": "/etc/group", "Kind": 2},
        {"Path": "/var", "Kind": 0}, {"Path": "/var/www/sub", "Kind": 1}, {"Path": "/var/www/sub/big", "Kind": 1},
        {"Path": "/tmp/new.txt", "Kind": 1}, {"Path": "/", "Kind": 0}, {"Path": "/x", "Kind": 9}]


def test_counts_roll_up_and_folders_are_known():
    t = ChangeTree(DIFF)
    assert t.counts == {"added": 3, "changed": 3, "deleted": 1}
    assert t.nodes["/etc"].counts == {"added": 0, "changed": 1, "deleted": 1}  # below it, not itself
    assert t.nodes["/var/www"].kind is None and t.nodes["/var/www"].is_dir  # implicit folder
    assert t.nodes["/var/www/sub"].is_dir
    assert t.sizable() == ["/etc/passwd", "/tmp/new.txt", "/var/www/sub/big"]  # no deleted, no folders
    assert "/x" not in t.nodes


def test_sizes_roll_up_once():
    t = ChangeTree(DIFF)
    touched = t.set_size("/var/www/sub/big", 1000)
    assert [n.path for n in touched] == ["/var/www/sub/big", "/var/www/sub", "/var/www", "/var", "/"]
    t.set_size("/var/www/sub/big", 1500)  # a second answer replaces the first
    t.set_size("/tmp/new.txt", 3)
    assert t.nodes["/var"].total_size == 1500 and t.root.total_size == 1503
    assert t.set_size("/nope", 1) == []


def test_filter_by_text_and_kind():
    t = ChangeTree(DIFF)
    assert t.visible("BIG") == {"/", "/var", "/var/www", "/var/www/sub", "/var/www/sub/big"}
    assert t.visible("", ["deleted"]) == {"/", "/etc", "/etc/group"}
    assert t.visible("nothing-like-it") == set()
