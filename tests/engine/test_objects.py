"""Images, volumes, networks, disk usage and volume files against the real engine."""

from __future__ import annotations

import io
import tarfile

import docker
import pytest

from desktop.engine.errors import ConflictError
from desktop.engine.objects import InUseError, ObjectsClient
from desktop.engine.specs import SpecError
from desktop.engine.volume_files import VolumeFiles


@pytest.fixture
def objects(client, run):
    run(client.connect())
    return ObjectsClient(client)


def test_images_list_tag_history_remove(objects, run, docker_api, test_image, run_id):
    images = run(objects.list_images())
    base = next(i for i in images if test_image in i.tags)
    ref = run(objects.tag_image(base.id, f"pht-{run_id}/img", "v1"))
    again = next(i for i in run(objects.list_images()) if i.id == base.id)
    assert ref in again.tags and test_image in again.tags
    layers = run(objects.image_history(base.id))
    assert layers and layers[0].size >= 0
    run(objects.remove_image(ref))
    assert ref not in docker_api.inspect_image(base.id)["RepoTags"]


def test_remove_image_in_use_names_the_container(objects, run, docker_api, make_container, run_id, test_image):
    docker_api.tag(test_image, f"pht-{run_id}/used", "x")
    image_id = docker_api.inspect_image(test_image)["Id"]
    # Commit a private image so only our container uses it.
    cid = make_container(f"pht-{run_id}-src")
    new_id = run(objects.commit(cid, f"pht-{run_id}/committed", "1"))
    user = make_container(f"pht-{run_id}-user")
    docker_api.remove_container(user)
    docker_api.create_container(new_id, command=["sleep", "1"], name=f"pht-{run_id}-user2")
    try:
        with pytest.raises(InUseError) as err:
            run(objects.remove_image(new_id))
        assert f"pht-{run_id}-user2" in str(err.value)
        assert docker_api.inspect_image(new_id)["Id"] == new_id
    finally:
        docker_api.remove_container(f"pht-{run_id}-user2", force=True)
        docker_api.remove_image(new_id, force=True)
        docker_api.remove_image(f"pht-{run_id}/used:x")
    assert image_id


def test_volume_create_remove_and_in_use_refused(objects, run, docker_api, make_container, run_id):
    name = f"pht-{run_id}-vol"
    v = run(objects.create_volume(name, labels={"k": "v"}))
    assert v.name == name and v.driver == "local"
    make_container(f"pht-{run_id}-holder", binds=[f"{name}:/data"])
    with pytest.raises(InUseError) as err:
        run(objects.remove_volume(name))
    assert f"pht-{run_id}-holder" in str(err.value)
    assert docker_api.inspect_volume(name)["Name"] == name
    docker_api.remove_container(f"pht-{run_id}-holder", force=True)
    run(objects.remove_volume(name))
    with pytest.raises(docker.errors.NotFound):
        docker_api.inspect_volume(name)
    with pytest.raises(SpecError):
        run(objects.create_volume("a b"))


def test_network_create_connect_remove(objects, run, docker_api, make_container, run_id):
    name = f"pht-{run_id}-net"
    with pytest.raises(SpecError):
        run(objects.create_network(name, "10.99.0.0/24", "10.98.0.1"))
    net_id = run(objects.create_network(name, "10.99.7.0/24", "10.99.7.1"))
    try:
        net = run(objects.inspect_network(net_id))
        assert net.subnets == ("10.99.7.0/24",) and net.gateways == ("10.99.7.1",)
        with pytest.raises(ConflictError):
            run(objects.create_network(name))
        cid = make_container(f"pht-{run_id}-c")
        run(objects.connect(net_id, cid))
        refs = run(objects.container_refs([cid]))
        assert name in refs[0].networks
        with pytest.raises(InUseError) as err:
            run(objects.remove_network(net_id, name))
        assert f"pht-{run_id}-c" in str(err.value)
        run(objects.disconnect(net_id, cid))
        run(objects.remove_network(net_id, name))
        with pytest.raises(docker.errors.NotFound):
            docker_api.inspect_network(net_id)
    finally:
        try:
            docker_api.remove_network(net_id)
        except docker.errors.APIError:
            pass


def test_disk_usage_and_plugins(objects, run, test_image):
    du = run(objects.disk_usage())
    assert any(test_image in r.name for r in du.of("image"))
    assert du.total("image") > 0
    assert run(objects.plugins()) == []


def _tar(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tf:
        for n, d in files.items():
            ti = tarfile.TarInfo(n)
            ti.size, ti.mtime, ti.mode = len(d), 1_700_000_000, 0o644
            tf.addfile(ti, io.BytesIO(d))
    return buf.getvalue()


def _contents(path) -> dict[str, bytes]:
    out = {}
    with tarfile.open(path) as tf:
        for m in tf:
            if m.isfile():
                out[m.name.lstrip("./")] = tf.extractfile(m).read()
    return out


def test_volume_files_browse_upload_download_export_import_clone(client, run, docker_api, run_id, tmp_path):
    run(client.connect())
    files = VolumeFiles(client)
    a, b, c = (f"pht-{run_id}-{x}" for x in "abc")
    docker_api.create_volume(a)
    docker_api.create_volume(b)
    try:
        src = tmp_path / "hello.txt"
        src.write_bytes(b"hello volume\n" * 1000)
        assert run(files.upload(a, "/", src)) == "/hello.txt"
        sub = tmp_path / "in.tar"
        sub.write_bytes(_tar({"sub/deep.bin": bytes(range(256)) * 40}))
        run(files.import_tar(a, sub))
        entries = run(files.list_dir(a, "/"))
        assert [(e.name, e.is_dir) for e in entries] == [("sub", True), ("hello.txt", False)]
        assert [e.name for e in run(files.list_dir(a, "/sub"))] == ["deep.bin"]
        got = run(files.download(a, "/hello.txt", tmp_path / "out.txt"))
        assert got.read_bytes() == src.read_bytes()
        # export → import into another volume → export again: identical files
        exp = tmp_path / "a.tar"
        run(files.export(a, exp))
        run(files.import_tar(b, exp))
        exp2 = tmp_path / "b.tar"
        run(files.export(b, exp2))
        assert _contents(exp) == _contents(exp2) and len(_contents(exp)) == 2
        run(files.clone(a, c))
        exp3 = tmp_path / "c.tar"
        run(files.export(c, exp3))
        assert _contents(exp3) == _contents(exp)
        # the helper containers are gone
        assert not docker_api.containers(all=True, filters={"label": "pilothouse.helper"})
    finally:
        for v in (a, b, c):
            try:
                docker_api.remove_volume(v)
            except docker.errors.NotFound:
                pass


def test_listing_a_huge_folder_stops_and_says_so(client, run, docker_api, run_id, tmp_path, monkeypatch):
    import desktop.engine.volume_files as vf

    run(client.connect())
    files = VolumeFiles(client)
    name = f"pht-{run_id}-big"
    docker_api.create_volume(name)
    try:
        big = tmp_path / "a-big.bin"
        big.write_bytes(b"x" * 3_000_000)
        small = tmp_path / "z-small.txt"
        small.write_text("z")
        run(files.upload(name, "/", big))
        run(files.upload(name, "/", small))
        assert run(files.list_dir(name, "/")).complete
        monkeypatch.setattr(vf, "LIST_BYTE_LIMIT", 1_000_000)
        partial = run(files.list_dir(name, "/"))
        assert not partial.complete and [e.name for e in partial] in ([], ["a-big.bin"])
    finally:
        docker_api.remove_volume(name, force=True)
