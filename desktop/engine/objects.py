"""Calls on images, volumes, networks, plugins and disk usage, over an EngineClient.

Kept beside EngineClient (not in it) so the container calls and these grow independently.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import docker.errors
import docker.types

from desktop.engine.client import EngineClient, container_list_body
from desktop.engine.errors import ConflictError, EngineError, NotFoundError, translate
from desktop.engine.records import parse_container_list
from desktop.engine.object_records import (ContainerRefs, DiskUsage, Image, ImageLayer, Network, Plugin,
                                           UsageRow, Volume, image_from_inspect)
from desktop.engine.specs import SpecError, parse_name, parse_repository, parse_subnet, parse_tag


class InUseError(ConflictError):
    """Removal refused because containers use the object; `users` names them."""

    def __init__(self, message: str, detail: str = "", users: tuple[str, ...] = ()) -> None:
        super().__init__(message, detail)
        self.users = users


def _names(users: list[str]) -> str:
    return ", ".join(users[:5]) + (f" and {len(users) - 5} more" if len(users) > 5 else "")


class ObjectsClient:
    """Images, volumes, networks, plugins and disk usage of one engine."""

    def __init__(self, client: EngineClient) -> None:
        self.client = client

    @property
    def engine_id(self) -> str:
        # The app's name for the engine (two daemons on one host may share an engine ID).
        return self.client.tag

    async def _call(self, action: str, target: str, fn, *args: Any, **kwargs: Any) -> Any:
        try:
            return await self.client.run(fn, *args, **kwargs)
        except Exception as exc:  # noqa: BLE001 - every failure becomes a sentence
            raise translate(exc, action, target) from exc

    async def container_refs(self, ids: list[str] | None = None) -> list[ContainerRefs]:
        """Image, volumes and networks of every container (or of the given ids)."""
        filters = {"id": ids} if ids else {}
        api = self.client.api
        # Records are built in the executor too: thousands of rows must not cost the UI thread.
        return await self._call("list", "containers", lambda: parse_container_list(
            container_list_body(api, all=True, filters=filters), ContainerRefs.from_api, ContainerRefs))

    async def _users(self, filters: Mapping[str, Any]) -> list[str]:
        raw = await self._call("list", "containers", self.client.api.containers, all=True, filters=dict(filters))
        return sorted(ContainerRefs.from_api(r).name for r in raw)

    async def image_users(self, image_id: str) -> list[str]:
        """The containers made from exactly this image, as the engine says now (not descendants)."""
        raw = await self._call("list", "containers", self.client.api.containers, all=True,
                               filters={"ancestor": image_id})
        return sorted(ContainerRefs.from_api(r).name for r in raw if r.get("ImageID") == image_id)

    async def volume_users(self, name: str) -> list[str]:
        """The containers that mount this volume, as the engine says now."""
        return await self._users({"volume": name})

    async def network_users(self, name: str) -> list[str]:
        """The containers attached to this network (stopped ones too), as the engine says now."""
        return await self._users({"network": name})

    # -- images ---------------------------------------------------------------------------------
    async def list_images(self) -> list[Image]:
        api, eid = self.client.api, self.engine_id
        return await self._call("list", "images", lambda: [Image.from_api(r, eid) for r in api.images(all=False)])

    async def inspect_images(self, refs: list[str]) -> dict[str, Image | None]:
        """Inspect each reference (id or name); None for those that no longer exist."""
        api, eid = self.client.api, self.engine_id

        def each() -> dict[str, Image | None]:
            out: dict[str, Image | None] = {}
            for ref in refs:
                try:
                    out[ref] = image_from_inspect(api.inspect_image(ref), eid)
                except docker.errors.NotFound:
                    out[ref] = None
            return out

        return await self._call("inspect", "images", each)

    async def image_history(self, image_id: str) -> list[ImageLayer]:
        raw = await self._call("read the history of", f"image {image_id[7:19]}", self.client.api.history, image_id)
        return [ImageLayer.from_api(r) for r in raw]

    async def tag_image(self, image_id: str, repository: str, tag: str = "latest") -> str:
        repo, tg = parse_repository(repository), parse_tag(tag or "latest")
        ok = await self._call("tag", f"image {image_id[7:19]}", self.client.api.tag, image_id, repo, tg)
        if ok is False:
            raise EngineError(f"The engine did not tag the image as {repo}:{tg}.")
        return f"{repo}:{tg}"

    async def remove_image(self, ref: str, *, force: bool = False, label: str = "") -> None:
        """Remove an image (by id) or one tag of it (by name). In use → InUseError naming the users."""
        what = f"image {label or ref}"
        try:
            await self.client.run(self.client.api.remove_image, ref, force=force)
        except Exception as exc:  # noqa: BLE001
            err = translate(exc, "remove", what)
            words = getattr(err, "detail", "") or str(exc)
            if "being used by" in words or "is using its referenced image" in words or (
                    isinstance(err, ConflictError) and "must be forced" in words):
                image_id = ref
                try:
                    image_id = (await self.client.run(self.client.api.inspect_image, ref))["Id"]
                except Exception:  # noqa: BLE001
                    pass
                users = await self._users({"ancestor": image_id})
                if "referenced in multiple repositories" in words:
                    raise ConflictError("The image is tagged several times; remove a single tag, "
                                        "or remove with force to drop all of its tags.", words) from exc
                who = _names(users) if users else "a container"
                running = "running" in words
                raise InUseError(
                    f"{what[0].upper() + what[1:]} is used by {who}. Remove "
                    f"{'those containers' if len(users) != 1 else 'that container'} first"
                    + ("." if running else ", or remove with force (the containers stay, without a named image)."),
                    words, tuple(users)) from exc
            if "referenced in multiple repositories" in words:
                raise ConflictError("The image is tagged several times; remove a single tag, "
                                    "or remove with force to drop all of its tags.", words) from exc
            raise err from exc

    async def commit(self, container_id: str, repository: str, tag: str = "latest", message: str = "",
                     author: str = "") -> str:
        """Commit a container's filesystem to a new image; returns the image id."""
        repo, tg = parse_repository(repository), parse_tag(tag or "latest")
        res = await self._call("commit", f"container {container_id[:12]}", self.client.api.commit,
                               container_id, repository=repo, tag=tg, message=message or None, author=author or None)
        return res["Id"]

    # -- volumes --------------------------------------------------------------------------------
    async def list_volumes(self) -> list[Volume]:
        api, eid = self.client.api, self.engine_id
        return await self._call("list", "volumes",
                                lambda: [Volume.from_api(v, eid) for v in (api.volumes().get("Volumes") or [])])

    async def inspect_volume(self, name: str) -> Volume:
        return Volume.from_api(await self._call("inspect", f"volume {name}", self.client.api.inspect_volume, name),
                               self.engine_id)

    async def create_volume(self, name: str = "", driver: str = "local", labels: Mapping[str, str] | None = None) -> Volume:
        if name:
            name = parse_name(name, "volume")
        raw = await self._call("create", f"volume {name}".strip(), self.client.api.create_volume,
                               name or None, driver=driver or "local", labels=dict(labels or {}) or None)
        return Volume.from_api(raw, self.engine_id)

    async def remove_volume(self, name: str, *, force: bool = False) -> None:
        users = await self._users({"volume": name})
        if users:
            raise InUseError(f"Volume {name} is in use by {_names(users)}; remove "
                             f"{'those containers' if len(users) > 1 else 'that container'} first.", users=tuple(users))
        try:
            await self.client.run(self.client.api.remove_volume, name, force=force)
        except Exception as exc:  # noqa: BLE001
            err = translate(exc, "remove", f"volume {name}")
            if "in use" in (err.detail or str(exc)):
                users = await self._users({"volume": name})
                raise InUseError(f"Volume {name} is in use by {_names(users) or 'a container'}.",
                                 err.detail, tuple(users)) from exc
            raise err from exc

    # -- networks -------------------------------------------------------------------------------
    async def list_networks(self) -> list[Network]:
        api, eid = self.client.api, self.engine_id
        return await self._call("list", "networks", lambda: [Network.from_api(n, eid) for n in api.networks()])

    async def inspect_network(self, net_id: str) -> Network:
        raw = await self._call("inspect", f"network {net_id[:12]}", self.client.api.inspect_network, net_id)
        return Network.from_api(raw, self.engine_id)

    async def create_network(self, name: str, subnet: str = "", gateway: str = "", *, internal: bool = False,
                             labels: Mapping[str, str] | None = None) -> str:
        """Create a bridge network; returns its id. Subnet and gateway are validated first."""
        name = parse_name(name, "network")
        ipam = None
        if subnet.strip() or gateway.strip():
            if not subnet.strip():
                raise SpecError("A gateway needs a subnet.")
            sn, gw = parse_subnet(subnet, gateway)
            ipam = docker.types.IPAMConfig(pool_configs=[docker.types.IPAMPool(subnet=sn, gateway=gw)])
        existing = await self._call("list", "networks", self.client.api.networks, names=[name])
        if any(n.get("Name") == name for n in existing):
            raise ConflictError(f"A network named {name} already exists.")
        res = await self._call("create", f"network {name}", self.client.api.create_network, name, driver="bridge",
                               ipam=ipam, internal=internal, labels=dict(labels or {}) or None, check_duplicate=True)
        return res["Id"]

    async def remove_network(self, net_id: str, name: str = "") -> None:
        if not name:
            name = (await self.inspect_network(net_id)).name
        what = f"network {name}"
        # The engine's `network` filter misses created-but-not-started containers: check by name.
        users = sorted(r.name for r in await self.container_refs() if name in r.networks)
        if users:
            raise InUseError(f"Network {name} is used by {_names(users)}; disconnect "
                             f"{'them' if len(users) > 1 else 'it'} first.", users=tuple(users))
        await self._call("remove", what, self.client.api.remove_network, net_id)

    async def connect(self, net_id: str, container_id: str) -> None:
        await self._call("connect", f"container {container_id[:12]}", self.client.api.connect_container_to_network,
                         container_id, net_id)

    async def disconnect(self, net_id: str, container_id: str, *, force: bool = False) -> None:
        await self._call("disconnect", f"container {container_id[:12]}",
                         self.client.api.disconnect_container_from_network, container_id, net_id, force=force)

    # -- plugins and disk usage -------------------------------------------------------------------
    async def plugins(self) -> list[Plugin]:
        return [Plugin.from_api(p) for p in await self._call("list", "plugins", self.client.api.plugins)]

    async def disk_usage(self) -> DiskUsage:
        api = self.client.api  # parsed in the executor: a thousand containers' rows are ~20 ms of work
        return await self._call("measure", "disk usage", lambda: DiskUsage.from_api(api.df()))

    async def remove_unused(self, rows: list[UsageRow]) -> tuple[int, list[str]]:
        """Remove exactly the given disk-usage rows (what the preview showed, nothing that appeared
        since); returns (bytes reclaimed, error sentences). Build cache goes through the prune API."""
        api = self.client.api
        reclaimed, errors = 0, []
        for r in rows:
            try:
                if r.kind == "image":
                    await self.client.run(api.remove_image, r.id)
                elif r.kind == "container":
                    await self.client.run(api.remove_container, r.id, v=False)
                elif r.kind == "volume":
                    await self.client.run(api.remove_volume, r.id)
                else:
                    continue
                reclaimed += r.size
            except Exception as exc:  # noqa: BLE001 - one failure must not stop the rest
                errors.append(str(translate(exc, "remove", f"{r.kind} {r.name}")))
        if any(r.kind == "build-cache" for r in rows):
            res = await self._call("prune", "build cache", api.prune_builds)
            reclaimed += int((res or {}).get("SpaceReclaimed") or 0)
        return reclaimed, errors


__all__ = ["ObjectsClient", "InUseError", "NotFoundError", "EngineError"]
