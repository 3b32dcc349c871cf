<?php
// php-curl: PHP's curl extension, one handle reused for every request, as the
// PHP tool this project replaces talked to the Usage API.
//
// usage: php curl_client.php MODE N URL [CA-FILE]   (MODE plain|tls|tlsnew)
$start = hrtime(true);
if ($argc < 4) {
    fwrite(STDERR, "usage: php curl_client.php plain|tls|tlsnew N URL [CA-FILE]\n");
    exit(2);
}
[$mode, $count, $url] = [$argv[1], (int)$argv[2], $argv[3]];
$handle = curl_init($url);
curl_setopt($handle, CURLOPT_RETURNTRANSFER, true);
if ($argc > 4) {
    curl_setopt($handle, CURLOPT_CAINFO, $argv[4]);
}
if ($mode === 'tlsnew') {
    curl_setopt($handle, CURLOPT_HTTPHEADER, ['Connection: close']);
    curl_setopt($handle, CURLOPT_FORBID_REUSE, true);
}
$first = 0.0;
$checksum = 0.0;
for ($i = 0; $i < $count; $i++) {
    $body = curl_exec($handle);
    $status = curl_getinfo($handle, CURLINFO_RESPONSE_CODE);
    if ($body === false || $status !== 200) {
        fwrite(STDERR, "php-curl: " . curl_error($handle) . " (status $status)\n");
        exit(1);
    }
    $checksum += json_decode($body, true, 512, JSON_THROW_ON_ERROR)['memory']['percent'];
    if ($i === 0) {
        $first = (hrtime(true) - $start) / 1e9;
    }
}
curl_close($handle);
$usage = getrusage();
$cpu = ($usage['ru_utime.tv_sec'] + $usage['ru_stime.tv_sec']) * 1000000
    + $usage['ru_utime.tv_usec'] + $usage['ru_stime.tv_usec'];
printf("client=php-curl mode=%s n=%d cpu_us=%d maxrss_kb=%d first_response_ms=%.3f checksum=%.1f\n",
    $mode, $count, $cpu, $usage['ru_maxrss'], $first * 1000, $checksum);
