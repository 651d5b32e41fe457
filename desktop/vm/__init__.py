"""The bundled Linux VM (Qt-free): image build, QEMU and WSL 2 drivers, mutual TLS, lifecycle.

Entry points for the app: desktop.vm.machine.VMManager / VMStatus / VMError (QEMU),
desktop.vm.wsl_engine.WslEngine (the same interface on WSL 2), desktop.vm.one_click
(image, boot and engine in one call), desktop.vm.readiness (can this host run it),
desktop.vm.config.VMConfig, desktop.vm.paths.VMPaths. See packaging/vm/README.md.
"""
