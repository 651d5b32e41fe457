from desktop.presentation.sizes import binary_size, human_size


def test_decimal_sizes_read_like_docker_images():
    assert human_size(512) == "512 B"
    assert human_size(1_980_000) == "1.98 MB"
    assert human_size(None) == "" and human_size(-1) == ""
    assert human_size(5 * 10**15) == "5e+03 TB"


def test_binary_sizes_read_like_docker_stats():
    assert binary_size(512) == "512 B"
    assert binary_size(45.2 * 1024**2) == "45.2 MiB"
    assert binary_size(1.5 * 1024**3) == "1.5 GiB"
    assert binary_size(-2048) == "-2.0 KiB"
    assert human_size(3 * 1024**4, binary=True) == "3.0 TiB"
