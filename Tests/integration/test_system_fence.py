"""Every raw C library call in Sources/ goes through HTTPLite/System.swift (the TLS files call OpenSSL)."""
import os
import shutil
import subprocess

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
CHECK = os.path.join(REPO, "scripts", "check-fence.sh")


def check(sources):
    return subprocess.run([CHECK, sources], capture_output=True, text=True, timeout=60)


def test_the_sources_call_c_only_through_the_fence():
    result = check(os.path.join(REPO, "Sources"))
    assert result.returncode == 0, result.stderr


def planted(tmp_path, line):
    sources = tmp_path / "Sources"
    shutil.copytree(os.path.join(REPO, "Sources"), sources)
    with open(sources / "Watcher" / "Planted.swift", "w") as file:
        file.write("import Glibc\n\nfunc planted() {\n    %s\n}\n" % line)
    return check(str(sources))


def test_a_raw_call_outside_the_fence_is_listed(tmp_path):
    for line in ["_ = read(0, nil, 0)", "_ = Glibc.close(3)", "let code = errno", "_ = getenv(\"HOME\")",
                 "_ = waitpid(1, nil, 0)", "_ = posix_spawnp(nil, \"x\", nil, nil, nil, nil)",
                 "var time = timespec(); _ = clock_gettime(CLOCK_MONOTONIC, &time)"]:
        result = planted(tmp_path, line)
        assert result.returncode == 1, line
        assert "Watcher/Planted.swift:4:" in result.stderr and line in result.stderr
        shutil.rmtree(tmp_path / "Sources")


def test_wrappers_methods_and_comments_are_not_calls(tmp_path):
    result = planted(tmp_path, "_ = try? System.read(0, into: .init(start: nil, count: 0))  // read(2)\n"
                               "    // close(fd) in a comment\n"
                               "    func close() {}\n"
                               "    self.close()\n"
                               "    _ = SystemError.self")
    assert result.returncode == 0, result.stderr
