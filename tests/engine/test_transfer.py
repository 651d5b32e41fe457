"""Pull, push (real registry), build, save/load, export/import and commit against the real engine."""

from __future__ import annotations

import io
import os
import tarfile

import pytest

from desktop.engine.image_transfer import build_job, export_job, import_image, load_job, pull_job, push_job, save_job
from desktop.engine.progress import BuildProgress, LayerProgress
from desktop.engine.specs import SpecError
from desktop.engine.streams import CancelledByUser, StreamError
from tests.harness.registry import registry  # noqa: F401 - the fixture


def unique_image(docker_api, make_container, repo: str, tag: str) -> str:
    """Commit a container holding random bytes: an image with a layer no other image has."""
    cid = make_container()
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tf:
        data = os.urandom(300_000)
        ti = tarfile.TarInfo("random.bin")
        ti.size = len(data)
        tf.addfile(ti, io.BytesIO(data))
    docker_api.put_archive(cid, "/", buf.getvalue())
    return docker_api.commit(cid, repository=repo, tag=tag)["Id"]


@pytest.fixture
def connected(client, run):
    run(client.connect())
    return client


def test_push_remove_pull_back(connected, run, docker_api, registry, make_container, run_id):  # noqa: F811
    ref = f"{registry.address}/pht/{run_id}:v1"
    image_id = unique_image(docker_api, make_container, f"{registry.address}/pht/{run_id}", "v1")
    push = LayerProgress()
    run(push_job(connected, ref, push.feed).run())
    assert push.digest.startswith("sha256:") and push.fraction == 1.0
    docker_api.remove_image(ref)
    pull = LayerProgress()
    run(pull_job(connected, ref, pull.feed).run())
    assert pull.layers and pull.fraction == 1.0
    assert docker_api.inspect_image(ref)["Id"] == image_id
    docker_api.remove_image(ref)


def test_pull_bad_reference_sends_nothing(connected):
    with pytest.raises(SpecError):
        pull_job(connected, "Not A Ref", lambda i: None)


def test_pull_missing_image_is_a_sentence(connected, run, registry):  # noqa: F811
    with pytest.raises(Exception) as err:
        run(pull_job(connected, f"{registry.address}/nope/missing:1", lambda i: None).run())
    assert "missing" in str(err.value) or "not found" in str(err.value).lower()


def test_cancel_a_stream(connected, run, docker_api, test_image, tmp_path):
    job = save_job(connected, [test_image], tmp_path / "x.tar", lambda n: job.cancel())
    with pytest.raises(CancelledByUser):
        run(job.run())
    assert not (tmp_path / "x.tar").exists()


def test_build_with_run_step_and_failing_step(connected, run, docker_api, test_image, run_id, tmp_path):
    (tmp_path / "Dockerfile").write_text(f"FROM {test_image}\nARG WHO=nobody\nRUN echo hello $WHO > /greeting\n"
                                         "FROM stage1-does-not-matter AS never\n".replace(
                                             "FROM stage1-does-not-matter AS never\n", ""))
    prog = BuildProgress()
    tag = f"pht-{run_id}/built:1"
    run(build_job(connected, tmp_path, prog.feed, tag=tag, build_args={"WHO": "pilot"}, no_cache=True).run())
    assert prog.steps == 3 and prog.image_id
    assert docker_api.inspect_image(tag)["Id"].endswith(prog.image_id.split(":")[-1])
    docker_api.remove_image(tag)
    (tmp_path / "Dockerfile").write_text(f"FROM {test_image}\nRUN echo ok\nRUN false\nRUN echo never\n")
    bad = BuildProgress()
    with pytest.raises(StreamError):
        run(build_job(connected, tmp_path, bad.feed, tag=f"pht-{run_id}/bad:1").run())
    assert bad.failed_step == "Step 3/4 : RUN false"
    assert "never" not in " ".join(bad.lines)


def test_save_remove_load_round_trip(connected, run, docker_api, test_image, run_id, tmp_path):
    ref = f"pht-{run_id}/saved:1"
    docker_api.tag(test_image, f"pht-{run_id}/saved", "1")
    image_id = docker_api.inspect_image(ref)["Id"]
    sizes: list[int] = []
    run(save_job(connected, [ref], tmp_path / "s.tar", sizes.append).run())
    assert sizes and (tmp_path / "s.tar").stat().st_size == sizes[-1]
    docker_api.remove_image(ref)
    items = []
    run(load_job(connected, tmp_path / "s.tar", items.append).run())
    assert any(isinstance(i, int) for i in items)
    assert docker_api.inspect_image(ref)["Id"] == image_id
    docker_api.remove_image(ref)


def test_export_container_import_as_image(connected, run, docker_api, make_container, run_id, tmp_path):
    cid = make_container(f"pht-{run_id}-exp")
    run(export_job(connected, cid, tmp_path / "fs.tar", lambda n: None).run())
    new_id = run(import_image(connected, tmp_path / "fs.tar", f"pht-{run_id}/imported", "1"))
    assert docker_api.inspect_image(f"pht-{run_id}/imported:1")["Id"] == new_id
    docker_api.remove_image(new_id)
