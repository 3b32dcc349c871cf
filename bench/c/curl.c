/* libcurl: one easy handle reused for every request, as a C program would.
 *
 * usage: libcurl MODE N URL [CA-FILE]   (MODE plain|tls|tlsnew)
 */
#include "common.h"

#include <curl/curl.h>

struct body {
    char bytes[16384];
    size_t used;
};

static size_t collect(char *data, size_t size, size_t count, void *context) {
    struct body *body = context;
    size_t length = size * count;
    if (length > sizeof body->bytes - body->used) return 0;
    memcpy(body->bytes + body->used, data, length);
    body->used += length;
    return length;
}

int main(int argc, char **argv) {
    double start = bench_now();
    if (argc < 4) {
        fprintf(stderr, "usage: libcurl plain|tls|tlsnew N URL [CA-FILE]\n");
        return 2;
    }
    const char *mode = argv[1];
    long count = atol(argv[2]);
    int fresh = strcmp(mode, "tlsnew") == 0;

    curl_global_init(CURL_GLOBAL_DEFAULT);
    CURL *handle = curl_easy_init();
    struct body body;
    struct curl_slist *headers = NULL;
    curl_easy_setopt(handle, CURLOPT_URL, argv[3]);
    curl_easy_setopt(handle, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(handle, CURLOPT_WRITEDATA, &body);
    if (argc > 4) curl_easy_setopt(handle, CURLOPT_CAINFO, argv[4]);
    if (fresh) {
        headers = curl_slist_append(headers, "Connection: close");
        curl_easy_setopt(handle, CURLOPT_HTTPHEADER, headers);
        curl_easy_setopt(handle, CURLOPT_FORBID_REUSE, 1L);
    }

    double first = 0, checksum = 0;
    for (long i = 0; i < count; i++) {
        body.used = 0;
        CURLcode result = curl_easy_perform(handle);
        long status = 0;
        curl_easy_getinfo(handle, CURLINFO_RESPONSE_CODE, &status);
        if (result != CURLE_OK || status != 200) {
            fprintf(stderr, "libcurl: %s (status %ld)\n", curl_easy_strerror(result), status);
            return 1;
        }
        checksum += bench_percent(body.bytes, body.used);
        if (i == 0) first = bench_now() - start;
    }
    curl_slist_free_all(headers);
    curl_easy_cleanup(handle);
    bench_report("libcurl", mode, count, first, checksum);
    return 0;
}
