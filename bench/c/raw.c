/* raw-c: the floor. Blocking sockets and OpenSSL, one write and as few reads
 * as the response needs, minimal parsing.
 *
 * usage: raw-c MODE N URL [CA-FILE]   (MODE plain|tls|tlsnew; URL http(s)://IPv4:PORT/PATH)
 */
#include "common.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

struct peer {
    int fd;
    SSL *ssl;
    char buffer[16384];
    size_t used;
};

static void die(const char *what) {
    fprintf(stderr, "raw-c: %s\n", what);
    ERR_print_errors_fp(stderr);
    exit(1);
}

static void peer_connect(struct peer *p, const struct sockaddr_in *address, SSL_CTX *context, const char *host) {
    p->fd = socket(AF_INET, SOCK_STREAM, 0);
    if (p->fd < 0) die("socket");
    int one = 1;
    setsockopt(p->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(p->fd, (const struct sockaddr *)address, sizeof *address) != 0) die("connect");
    p->ssl = NULL;
    p->used = 0;
    if (context == NULL) return;
    p->ssl = SSL_new(context);
    SSL_set_fd(p->ssl, p->fd);
    X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(p->ssl), host);
    if (SSL_connect(p->ssl) != 1) die("TLS handshake failed");
}

static void peer_close(struct peer *p) {
    if (p->ssl != NULL) {
        SSL_shutdown(p->ssl);
        SSL_free(p->ssl);
    }
    close(p->fd);
}

static void peer_write(struct peer *p, const char *bytes, size_t length) {
    long written = p->ssl ? SSL_write(p->ssl, bytes, (int)length) : write(p->fd, bytes, length);
    if (written != (long)length) die("short write");
}

static size_t peer_read(struct peer *p) {
    size_t room = sizeof p->buffer - p->used;
    if (room == 0) die("response too large");
    long got = p->ssl ? SSL_read(p->ssl, p->buffer + p->used, (int)room) : read(p->fd, p->buffer + p->used, room);
    if (got <= 0) die("connection closed before the response ended");
    p->used += (size_t)got;
    return (size_t)got;
}

/* Reads one response with a Content-Length body; returns memory.percent. */
static double read_response(struct peer *p) {
    p->used = 0;
    char *end_of_headers;
    for (;;) {
        peer_read(p);
        end_of_headers = memmem(p->buffer, p->used, "\r\n\r\n", 4);
        if (end_of_headers != NULL) break;
    }
    size_t header_length = (size_t)(end_of_headers + 4 - p->buffer);
    if (p->used < 12 || memcmp(p->buffer + 9, "200", 3) != 0) die("status is not 200");
    const char *length_field = memmem(p->buffer, header_length, "\r\nContent-Length:", 17);
    if (length_field == NULL) die("no Content-Length");
    size_t body_length = strtoul(length_field + 17, NULL, 10);
    while (p->used < header_length + body_length) peer_read(p);
    if (p->used != header_length + body_length) die("bytes after the response");
    return bench_percent(p->buffer + header_length, body_length);
}

int main(int argc, char **argv) {
    double start = bench_now();
    if (argc < 4) die("usage: raw-c plain|tls|tlsnew N URL [CA-FILE]");
    const char *mode = argv[1];
    long count = atol(argv[2]);
    int tls = strcmp(mode, "plain") != 0, fresh = strcmp(mode, "tlsnew") == 0;

    char host[64], path[256];
    int port;
    if (sscanf(argv[3], "%*[a-z]://%63[0-9.]:%d%255s", host, &port, path) != 3) die("URL must be scheme://IPv4:port/path");
    struct sockaddr_in address = {.sin_family = AF_INET, .sin_port = htons((unsigned short)port)};
    if (inet_pton(AF_INET, host, &address.sin_addr) != 1) die("bad IPv4 address");

    char request[512];
    int request_length = snprintf(request, sizeof request, "GET %s HTTP/1.1\r\nHost: %s:%d\r\n%s\r\n",
                                  path, host, port, fresh ? "Connection: close\r\n" : "");

    SSL_CTX *context = NULL;
    if (tls && count > 0) {
        context = SSL_CTX_new(TLS_client_method());
        SSL_CTX_set_min_proto_version(context, TLS1_2_VERSION);
        SSL_CTX_set_verify(context, SSL_VERIFY_PEER, NULL);
        if (argc < 5 || SSL_CTX_load_verify_locations(context, argv[4], NULL) != 1) die("cannot load the CA file");
    }

    struct peer p;
    double first = 0, checksum = 0;
    if (count > 0 && !fresh) peer_connect(&p, &address, context, host);
    for (long i = 0; i < count; i++) {
        if (fresh) peer_connect(&p, &address, context, host);
        peer_write(&p, request, (size_t)request_length);
        checksum += read_response(&p);
        if (fresh) peer_close(&p);
        if (i == 0) first = bench_now() - start;
    }
    if (count > 0 && !fresh) peer_close(&p);
    bench_report("raw-c", mode, count, first, checksum);
    return 0;
}
