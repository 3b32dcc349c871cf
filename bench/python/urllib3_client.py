"""python-urllib3: urllib3's connection pool, one pool reused for every request.

usage: python3 urllib3_client.py MODE N URL [CA-FILE]   (MODE plain|tls|tlsnew)
"""
import time

START = time.monotonic()

import json  # noqa: E402  (the clock starts before the imports, as a process would)
import resource  # noqa: E402
import sys  # noqa: E402

import urllib3  # noqa: E402


def main():
    if len(sys.argv) < 4:
        sys.exit("usage: urllib3_client.py plain|tls|tlsnew N URL [CA-FILE]")
    mode, count, url = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    ca = sys.argv[4] if len(sys.argv) > 4 else None
    pool = urllib3.connection_from_url(url, maxsize=1, ca_certs=ca) if ca else urllib3.connection_from_url(url, maxsize=1)
    headers = {"Connection": "close"} if mode == "tlsnew" else None
    path = urllib3.util.parse_url(url).request_uri
    first = 0.0
    checksum = 0.0
    for index in range(count):
        response = pool.request("GET", path, headers=headers, retries=False)
        if response.status != 200:
            sys.exit("python-urllib3: status %d" % response.status)
        checksum += json.loads(response.data)["memory"]["percent"]
        if index == 0:
            first = time.monotonic() - START
    usage = resource.getrusage(resource.RUSAGE_SELF)
    cpu = round((usage.ru_utime + usage.ru_stime) * 1e6)
    print("client=python-urllib3 mode=%s n=%d cpu_us=%d maxrss_kb=%d first_response_ms=%.3f checksum=%.1f"
          % (mode, count, cpu, usage.ru_maxrss, first * 1000, checksum))


main()
