// go-nethttp: Go's net/http client, one http.Client reused for every request.
//
// usage: go-nethttp MODE N URL [CA-FILE]   (MODE plain|tls|tlsnew)
package main

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"syscall"
	"time"
)

type usage struct {
	Memory struct {
		Percent float64 `json:"percent"`
	} `json:"memory"`
}

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "go-nethttp: "+format+"\n", args...)
	os.Exit(1)
}

func main() {
	start := time.Now()
	if len(os.Args) < 4 {
		fmt.Fprintln(os.Stderr, "usage: go-nethttp plain|tls|tlsnew N URL [CA-FILE]")
		os.Exit(2)
	}
	mode, url := os.Args[1], os.Args[3]
	count, err := strconv.Atoi(os.Args[2])
	if err != nil {
		fail("bad N: %v", err)
	}
	transport := &http.Transport{DisableKeepAlives: mode == "tlsnew", MaxIdleConnsPerHost: 1}
	if len(os.Args) > 4 {
		pem, err := os.ReadFile(os.Args[4])
		if err != nil {
			fail("%v", err)
		}
		roots := x509.NewCertPool()
		if !roots.AppendCertsFromPEM(pem) {
			fail("no certificate in %s", os.Args[4])
		}
		transport.TLSClientConfig = &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}
	}
	client := &http.Client{Transport: transport}

	var first time.Duration
	checksum := 0.0
	for i := 0; i < count; i++ {
		response, err := client.Get(url)
		if err != nil {
			fail("%v", err)
		}
		body, err := io.ReadAll(response.Body)
		response.Body.Close()
		if err != nil || response.StatusCode != 200 {
			fail("status %d: %v", response.StatusCode, err)
		}
		var parsed usage
		if err := json.Unmarshal(body, &parsed); err != nil {
			fail("%v", err)
		}
		checksum += parsed.Memory.Percent
		if i == 0 {
			first = time.Since(start)
		}
	}
	var self syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &self)
	cpu := (self.Utime.Sec+self.Stime.Sec)*1000000 + self.Utime.Usec + self.Stime.Usec
	fmt.Printf("client=go-nethttp mode=%s n=%d cpu_us=%d maxrss_kb=%d first_response_ms=%.3f checksum=%.1f\n",
		mode, count, cpu, self.Maxrss, float64(first.Microseconds())/1000, checksum)
}
