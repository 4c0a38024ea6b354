from balloontui.core.target_store import NULL_UUID, TargetStore, vm_key


def test_keys_prefer_a_real_uuid():
    assert vm_key("1f0e-...", "web", "unix:/x") == "uuid:1f0e-..."
    assert vm_key(NULL_UUID, "web", "unix:/x") == "name:web@unix:/x"
    assert vm_key(None, "web", "unix:/x") == "name:web@unix:/x"


def test_targets_survive_a_restart_of_balloontui(tmp_path):
    path = tmp_path / "state" / "targets.json"
    TargetStore(path).remember("uuid:a", 1 << 30, 123.0, (1, 2, 300, 4))
    again = TargetStore(path).recall("uuid:a")
    assert again.target == 1 << 30 and again.set_at == 123.0
    assert again.holds_for((1, 2, 300, 4))
    assert not again.holds_for((1, 9, 301, 4))  # another QEMU process: its balloon began empty
    assert again.holds_for(None)


def test_another_process_writes_are_seen(tmp_path):
    path = tmp_path / "targets.json"
    tui, cli = TargetStore(path), TargetStore(path)
    assert tui.recall("k") is None
    cli.remember("k", 5, 1.0, None)
    assert tui.recall("k").target == 5
    cli.forget("k")
    assert tui.recall("k") is None


def test_a_damaged_file_is_as_if_empty(tmp_path):
    path = tmp_path / "targets.json"
    path.write_text("{not json")
    store = TargetStore(path)
    assert store.recall("k") is None
    store.remember("k", 7, 1.0, None)
    assert store.recall("k").target == 7
