"""Folding engine progress messages and disk usage, as pure functions."""

from desktop.engine.object_records import DiskUsage, Image
from desktop.engine.progress import BuildProgress, LayerProgress
from desktop.presentation.objects import image_usage_state, used_by_text
from desktop.presentation.sizes import human_size


def test_layer_progress_overall_fraction():
    p = LayerProgress()
    for item in ({"status": "Pulling from team/app", "id": "1"},
                 {"status": "Pulling fs layer", "id": "a"}, {"status": "Pulling fs layer", "id": "b"},
                 {"status": "Downloading", "id": "a", "progressDetail": {"current": 50, "total": 100}}):
        p.feed(item)
    assert p.fraction == 0.125  # a: half of the download half; b: nothing
    p.feed({"status": "Extracting", "id": "a", "progressDetail": {"current": 100, "total": 100}})
    p.feed({"status": "Already exists", "id": "b"})
    assert p.fraction == 1.0
    p.feed({"status": "Digest: sha256:abc"})
    assert p.digest == "sha256:abc" and set(p.layers) == {"a", "b"}
    # progress never goes backwards when messages arrive out of order
    p.feed({"status": "Downloading", "id": "a", "progressDetail": {"current": 1, "total": 100}})
    assert p.fraction == 1.0


def test_push_progress():
    p = LayerProgress()
    p.feed({"status": "The push refers to repository [x]"})
    p.feed({"status": "Pushing", "id": "a", "progressDetail": {"current": 10, "total": 40}})
    assert p.fraction == 0.25
    p.feed({"status": "Pushed", "id": "a"})
    p.feed({"status": "1: digest: sha256:d size: 1", "aux": {"Tag": "1", "Digest": "sha256:d", "Size": 1}})
    assert p.fraction == 1.0 and p.digest == "sha256:d"


def test_build_progress_names_the_failing_step():
    b = BuildProgress()
    for text in ("Step 1/3 : FROM x\n", " ---> abc\n", "Step 2/3 : RUN false\n", " ---> Running in 1\n"):
        b.feed({"stream": text})
    b.feed({"errorDetail": {"code": 1, "message": "returned 1"}, "error": "returned 1"})
    assert b.failed_step == "Step 2/3 : RUN false" and b.error == "returned 1"
    assert b.fraction == 2 / 3


def test_disk_usage_reclaimable():
    raw = {"LayersSize": 300,
           "Images": [{"Id": "sha256:1", "RepoTags": ["a:1"], "Containers": 0, "Size": 100, "SharedSize": 0},
                      {"Id": "sha256:2", "RepoTags": ["<none>:<none>"], "Containers": 0, "Size": 50, "SharedSize": 10},
                      {"Id": "sha256:3", "RepoTags": None, "Containers": 1, "Size": 70, "SharedSize": 0}],
           "Containers": [{"Id": "c1", "Names": ["/web"], "State": "running", "SizeRw": 5},
                          {"Id": "c2", "Names": ["/old"], "State": "exited", "SizeRw": 7}],
           "Volumes": [{"Name": "v1", "UsageData": {"Size": 9, "RefCount": 0}},
                       {"Name": "v2", "UsageData": {"Size": 4, "RefCount": 1}}],
           "BuildCache": [{"ID": "b", "Size": 3, "InUse": False, "Type": "regular"}]}
    du = DiskUsage.from_api(raw)
    assert du.total("image") == 300 and du.reclaimable("image") == 40
    assert [r.name for r in du.of("container") if r.reclaimable] == ["old"]
    assert du.reclaimable("volume") == 9 and du.reclaimable("build-cache") == 3


def test_presentation():
    assert human_size(1_984_250) == "1.98 MB" and human_size(512) == "512 B" and human_size(None) == ""
    assert used_by_text(["a", "b", "c", "d"]) == "a, b and 2 more"
    im = Image.from_api({"Id": "sha256:" + "f" * 64, "RepoTags": ["<none>:<none>"], "Size": 1, "Created": 0})
    assert im.dangling and im.display_name == "<none>" and image_usage_state([], im.dangling) == "dangling"
    assert image_usage_state(["x"], True) == "in use"
    assert image_usage_state([], False, known=False) == "unknown"
    assert image_usage_state(["x"], False, known=False) == "in use"
