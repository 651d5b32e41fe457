"""Run requests against the real engine: anything the form accepts, the engine accepts too."""

from __future__ import annotations

import uuid

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from desktop.engine.run_request import FormErrors, create_args, parse_run_form

ports = st.builds(lambda ip, h, c, p: f"{ip}{h}:{c}{p}", st.sampled_from(["", "127.0.0.1:", "[::1]:"]),
                  st.one_of(st.just(""), st.integers(20000, 60000).map(str)), st.integers(1, 65535),
                  st.sampled_from(["", "/tcp", "/udp"]))
env = st.builds(lambda k, v: f"{k}={v}", st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,10}", fullmatch=True),
                st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), max_size=20))
mounts = st.builds(lambda s, t, m: f"{s}:/{t}{m}", st.sampled_from(["/tmp", "phvol", "/var/tmp"]),
                   st.from_regex(r"[a-z]{1,8}", fullmatch=True), st.sampled_from(["", ":ro", ":rw"]))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(ports, max_size=3), st.lists(env, max_size=3), st.lists(mounts, max_size=2, unique_by=lambda m: m.split(":")[1]))
def test_accepted_forms_are_accepted_by_the_engine(docker_api, test_image, ports, env, mounts):
    values = {"image": test_image, "ports": "\n".join(ports), "env": "\n".join(env), "mounts": "\n".join(mounts),
              "command": "sleep 1"}
    try:
        req = parse_run_form(values)
    except FormErrors as err:
        assert set(err.errors) <= {"ports", "mounts"}  # duplicates of generated values
        return
    name = f"pht-hyp-{uuid.uuid4().hex[:8]}"
    args = create_args(docker_api, req)
    args["name"] = name
    cid = docker_api.create_container(**args)["Id"]
    try:
        info = docker_api.inspect_container(cid)
        assert sorted(info["Config"]["Env"][:len(req.env)]) == sorted(f"{k}={v}" for k, v in req.env) or all(
            f"{k}={v}" in info["Config"]["Env"] for k, v in req.env)
        assert len(info["HostConfig"]["Binds"] or []) == len(req.mounts)
    finally:
        docker_api.remove_container(cid, force=True)
        for m in req.mounts:
            if not m.is_bind:
                try:
                    docker_api.remove_volume(m.source)
                except Exception:  # noqa: BLE001 - another example may still use it
                    pass
