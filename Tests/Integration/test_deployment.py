"""The ways a pool is deployed: on a socket inherited on fd 0 (spawn-fcgi), behind the upstream of
nginx/upstream-example.conf, with configuration rendered by scripts/render-template."""

import os
import re
import signal
import socket
import subprocess

from stack import RENDER, REPO, TEMPLATES, Pool, find_program, free_port, nginx_etc, nginx_user_directive


def test_pool_serves_on_a_listening_socket_inherited_on_fd_0(stack):
    path = stack.root / "run" / "inherited.sock"
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(str(path))
    os.chmod(path, 0o666)
    listener.listen(64)
    pool = Pool(stack.binary, path, stack.database_url, stack.root / "log" / "inherited.log", workers=2,
                listener=listener)
    stack.extras.append(pool)
    try:
        pool.start()
    finally:
        # The pool holds its own copy now; the test's must not keep the socket alive after it.
        listener.close()
    nginx = stack.start_nginx([f"unix:{path}"])
    statuses = [stack.get("/api/health", base_url=nginx.base_url).status_code for _ in range(10)]
    assert statuses == [200] * 10
    assert len(pool.requests_logged("/api/health")) == 10
    pool.send_signal(signal.SIGTERM)
    assert pool.wait(timeout=15) == 0
    # The file belongs to whoever bound the socket (spawn-fcgi, systemd), not to the pool.
    assert path.exists()


def test_upstream_example_is_a_valid_configuration(stack, tmp_path):
    example = (REPO / "nginx" / "upstream-example.conf").read_text()
    body = re.search(r"^upstream hitkeep \{(.*?)^\}", example, re.S | re.M).group(1)
    # Resolvable stand-ins for the example's hosts and socket, so that `nginx -t` can check the rest.
    body = re.sub(r"app\d\.internal", "127.0.0.1", body)
    body = body.replace("/run/hitkeep/hitkeep.sock", str(tmp_path / "hitkeep.sock"))
    assert "server unix:" in body and "server 127.0.0.1:9000" in body

    server_conf, main_conf = tmp_path / "hitkeep.conf", tmp_path / "nginx.conf"
    render = [str(RENDER), str(TEMPLATES / "hitkeep.conf.template"), f"LISTEN=127.0.0.1:{free_port()}", "SERVER_NAME=_",
              f"STATIC_ROOT={stack.static_root}", f"OPENAPI_DOCUMENT={stack.openapi_document}",
              f"UPSTREAM_SERVERS={body}"]
    server_conf.write_text(subprocess.run(render, capture_output=True, text=True, check=True, timeout=10).stdout)
    render = [str(RENDER), str(TEMPLATES / "nginx.conf.template"), f"USER_DIRECTIVE={nginx_user_directive()}",
              f"RUN_DIR={tmp_path}", f"ERROR_LOG={tmp_path / 'error.log'}", f"ACCESS_LOG={tmp_path / 'access.log'}",
              f"NGINX_ETC={nginx_etc()}", f"SERVER_CONF={server_conf}"]
    main_conf.write_text(subprocess.run(render, capture_output=True, text=True, check=True, timeout=10).stdout)
    tmp_path.chmod(0o755)
    check = subprocess.run([find_program("nginx"), "-t", "-e", str(tmp_path / "error.log"), "-c", str(main_conf)],
                           capture_output=True, text=True, timeout=10)
    assert check.returncode == 0, check.stderr
    assert "least_conn" in server_conf.read_text()


def test_render_template_refuses_missing_and_unknown_names(tmp_path):
    template = tmp_path / "t.template"
    template.write_text("listen {{LISTEN}}; root {{ROOT}}; set $x 1;\n")
    ok = subprocess.run([str(RENDER), str(template), "LISTEN=127.0.0.1:80", "ROOT=/srv"],
                        capture_output=True, text=True, timeout=10)
    assert ok.returncode == 0 and ok.stdout == "listen 127.0.0.1:80; root /srv; set $x 1;\n"

    missing = subprocess.run([str(RENDER), str(template), "LISTEN=1"], capture_output=True, text=True, timeout=10)
    assert missing.returncode == 1 and "no value for ROOT" in missing.stderr and missing.stdout == ""

    unknown = subprocess.run([str(RENDER), str(template), "LISTEN=1", "ROOT=/", "LISTNE=2"],
                             capture_output=True, text=True, timeout=10)
    assert unknown.returncode == 1 and "not in the template: LISTNE" in unknown.stderr


def test_nginx_restarted_with_another_upstream_moves_traffic(stack):
    first = stack.start_pool(workers=1)
    second = stack.start_pool(workers=1)
    nginx = stack.start_nginx([first.upstream])
    port = nginx.port
    assert stack.get("/api/health", base_url=nginx.base_url).status_code == 200

    nginx.restart([second.upstream])
    assert nginx.port == port
    before = len(first.requests_logged("/api/health"))
    assert [stack.get("/api/health", base_url=nginx.base_url).status_code for _ in range(5)] == [200] * 5
    assert len(second.requests_logged("/api/health")) == 5
    assert len(first.requests_logged("/api/health")) == before
