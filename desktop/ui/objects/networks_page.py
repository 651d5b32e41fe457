"""The Networks page: name, driver, scope, subnet, gateway, attached containers; create a bridge,
remove, connect and disconnect containers."""

from __future__ import annotations

from PySide6.QtWidgets import QHeaderView

from desktop.engine.object_records import Network
from desktop.presentation.objects import USAGE_UNKNOWN_TIP, used_by_text
from desktop.state.engine_objects import EngineObjects, merged_key
from desktop.ui.widgets.dialogs import confirm
from desktop.ui.widgets.engine_choice import chosen_engine, target
from desktop.ui.objects.object_forms import choose_dialog, network_create_dialog
from desktop.ui.objects.object_model import Column, ObjectTableModel
from desktop.ui.objects.object_page import ObjectPage

COL_NAME, COL_DRIVER, COL_SCOPE, COL_SUBNET, COL_GATEWAY, COL_USED, COL_ENGINE = range(7)


class NetworksPage(ObjectPage):
    """Sidebar page `networks`: every followed engine's networks (one engine's when one is selected)."""

    def __init__(self, stores: EngineObjects, parent=None) -> None:
        self.stores = stores

        def users(n: Network) -> list[str]:
            return stores.state_for(n).usage.network_users(n.name)

        def known(n: Network) -> bool:  # the engine's containers were listed
            return stores.state_for(n).usage.loaded

        columns = [
            Column("Name", lambda n: n.name),
            Column("Driver", lambda n: n.driver),
            Column("Scope", lambda n: n.scope),
            Column("Subnet", lambda n: ", ".join(n.subnets)),
            Column("Gateway", lambda n: ", ".join(n.gateways)),
            Column("Containers", lambda n: used_by_text(users(n), known(n)), usage=True,
                   tooltip=lambda n: ("\n".join(users(n)) or "No container is attached") if known(n) else USAGE_UNKNOWN_TIP),
            Column("Engine", lambda n: n.engine_id),
        ]
        model = ObjectTableModel(stores.networks, columns, merged_key)
        super().__init__("Networks", "networksPage", model, "network", parent)
        self.listen(stores.usage_changed, model.usage_changed)
        header = self.view.horizontalHeader()
        for c, w in ((COL_DRIVER, 80), (COL_SCOPE, 70), (COL_SUBNET, 140), (COL_GATEWAY, 120), (COL_USED, 220),
                     (COL_ENGINE, 100)):
            header.setSectionResizeMode(c, QHeaderView.ResizeMode.Interactive)
            header.resizeSection(c, w)
        self.add_button("create", "Create…", self.create, tip="Create a bridge network")
        self.add_button("connect", "Connect…", self.connect_selected, needs_selection=True,
                        tip="Connect a container to the network")
        self.add_button("disconnect", "Disconnect…", self.disconnect_selected, needs_selection=True)
        self.add_button("remove", "Remove", self.remove_selected, needs_selection=True)
        self.finish_toolbar()

    def context_actions(self, items: list) -> list:
        if not items:
            return [("Create…", self.create)]
        return [("Connect…", self.connect_selected), ("Disconnect…", self.disconnect_selected), ("-", None),
                ("Remove", self.remove_selected)]

    def _one(self) -> Network | None:
        items = self.selected()
        return items[0] if items else None

    def create(self):
        keys = self.stores.targets()
        dlg = network_create_dialog(self, target(keys, lambda k: self.stores.state(k).calls))
        self.keep("create_dialog_opened", dlg)

        async def go():
            net_id = await dlg.ask()
            if net_id:
                engine = chosen_engine(dlg, keys)
                self.message.show_info("Created the network" + (f" on {engine}." if self.stores.several else "."))
                await self.stores.state(engine).networks.wait_idle()
                self.select_key(f"{engine}|{net_id}")
        return self.spawn(go())

    def remove_selected(self):
        items = self.selected()
        return self.spawn(self._remove(items)) if items else None

    async def _remove(self, items: list[Network]) -> None:
        builtin = [n.name for n in items if n.builtin]
        if builtin:
            self.message.show_error(f"{', '.join(builtin)} {'is' if len(builtin) == 1 else 'are'} built into the "
                                    "engine and cannot be removed.")
            return
        busy = await self.engine_users(items, lambda calls, n: calls.network_users(n.name))
        if busy is None:
            return
        if busy:
            self.message.show_error(" ".join(f"Network {n} is used by {', '.join(u)}; disconnect "
                                             f"{'them' if len(u) > 1 else 'it'} first." for n, u in busy))
            return
        names = ", ".join(n.name + (f" (on {n.engine_id})" if self.stores.several else "") for n in items)
        ok, _ = await confirm(self, "Remove networks", f"Remove {names}?", "Remove")
        if not ok:
            return
        for n in items:
            await self.stores.state_for(n).calls.remove_network(n.id, n.name)
        self.message.show_info(f"Removed {names}.")

    def _choose(self, net: Network, connect: bool):
        st = self.stores.state_for(net)  # the containers of the network's own engine
        usage = st.usage
        attached = set(usage.network_users(net.name))
        names = [r.name for r in usage.containers() if (r.name in attached) != connect]
        if not names:
            self.message.show_error("No container to connect." if connect else "No container is attached.")
            return None
        by_name = {r.name: r.id for r in usage.containers()}

        async def submit(values: dict) -> str:
            from desktop.engine.run_request import FormErrors
            name = values["choice"]
            if name not in by_name:
                raise FormErrors({"choice": f"There is no container named {name}."})
            if connect:
                await st.calls.connect(net.id, by_name[name])
            else:
                await st.calls.disconnect(net.id, by_name[name])
            usage.refresh_container(by_name[name])
            return name

        verb = "Connect" if connect else "Disconnect"
        dlg = choose_dialog(self, f"{verb} a container {'to' if connect else 'from'} {net.name}", "Container", names,
                            verb, submit)
        self.keep("choose_dialog_opened", dlg)

        async def go():
            name = await dlg.ask()
            if name:
                self.message.show_info(f"{'Connected' if connect else 'Disconnected'} {name}.")
        return self.spawn(go())

    def connect_selected(self):
        n = self._one()
        return self._choose(n, True) if n else None

    def disconnect_selected(self):
        n = self._one()
        return self._choose(n, False) if n else None
