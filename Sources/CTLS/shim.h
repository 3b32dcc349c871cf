#ifndef CTLS_SHIM_H
#define CTLS_SHIM_H

#include <openssl/ssl.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

// OpenSSL spells these as macros, which Swift cannot call.

static inline long ctls_set_sni(SSL *ssl, const char *name) {
    return SSL_set_tlsext_host_name(ssl, name);
}

static inline long ctls_ctx_set_min_version(SSL_CTX *ctx, int version) {
    return SSL_CTX_set_min_proto_version(ctx, version);
}

static inline long ctls_ctx_add_chain_cert(SSL_CTX *ctx, X509 *cert) {
    return SSL_CTX_add1_chain_cert(ctx, cert);
}

static inline long ctls_ctx_set_mode(SSL_CTX *ctx, long mode) {
    return SSL_CTX_set_mode(ctx, mode);
}

static inline long ctls_ctx_set_session_cache_mode(SSL_CTX *ctx, long mode) {
    return SSL_CTX_set_session_cache_mode(ctx, mode);
}

// OpenSSL 3 treats a peer that closes without close_notify as an error; HTTP
// framing (Content-Length, chunked) already detects truncation, so read it as EOF.
// 1 when the option is now set.
static inline int ctls_ctx_ignore_unexpected_eof(SSL_CTX *ctx) {
    return (SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF) & SSL_OP_IGNORE_UNEXPECTED_EOF) != 0;
}

#endif
