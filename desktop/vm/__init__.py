"""The bundled Linux VM (Qt-free): image build, QEMU driver, mutual TLS, lifecycle.

Entry points for the app: desktop.vm.machine.VMManager / VMStatus / VMError,
desktop.vm.config.VMConfig, desktop.vm.paths.VMPaths. See packaging/vm/README.md.
"""
