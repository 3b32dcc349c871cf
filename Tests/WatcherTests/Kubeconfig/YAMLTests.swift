import HTTPLite
import JSON
import XCTest
@testable import Watcher

final class YAMLTests: XCTestCase {
    private func parse(_ text: String, file: StaticString = #filePath, line: UInt = #line) -> JSON? {
        do {
            return try YAML.parse(Array(text.utf8))
        } catch {
            XCTFail("unexpected \(error)", file: file, line: line)
            return nil
        }
    }

    private func assertError(_ text: String, line expectedLine: Int, _ reasonPart: String,
                             file: StaticString = #filePath, line: UInt = #line) {
        do {
            let value = try YAML.parse(Array(text.utf8))
            XCTFail("expected an error, read \(value)", file: file, line: line)
        } catch {
            XCTAssertEqual(error.line, expectedLine, "\(error)", file: file, line: line)
            XCTAssertTrue(error.reason.contains(reasonPart),
                          "\(error) should say \(reasonPart)", file: file, line: line)
        }
    }

    /// A kubeconfig as `kubectl config set-cluster/set-credentials/set-context` wrote it (kubectl 1.32).
    func testKubectlWrittenKubeconfig() {
        let text = """
            apiVersion: v1
            clusters:
            - cluster:
                certificate-authority-data: LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCg==
                server: https://127.0.0.1:6443
                tls-server-name: kubernetes.internal
              name: c1
            - cluster:
                insecure-skip-tls-verify: true
                server: https://x:1
              name: c3
            contexts:
            - context:
                cluster: c1
                namespace: team
                user: u1
              name: ctx
            current-context: ctx
            kind: Config
            preferences: {}
            users:
            - name: u1
              user:
                token: abc
            - name: u3
              user:
                exec:
                  apiVersion: client.authentication.k8s.io/v1beta1
                  args:
                  - a very long argument with spaces that goes over the eighty column limit of
                    go yaml v2 emitter for sure
                  - "123"
                  command: /bin/x
                  env: null
                  interactiveMode: IfAvailable
                  provideClusterInfo: false

            """
        let expected: JSON = [
            "apiVersion": "v1",
            "clusters": [
                ["cluster": ["certificate-authority-data": "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCg==",
                             "server": "https://127.0.0.1:6443", "tls-server-name": "kubernetes.internal"],
                 "name": "c1"],
                ["cluster": ["insecure-skip-tls-verify": true, "server": "https://x:1"], "name": "c3"],
            ],
            "contexts": [["context": ["cluster": "c1", "namespace": "team", "user": "u1"], "name": "ctx"]],
            "current-context": "ctx",
            "kind": "Config",
            "preferences": .object(JSONObject()),
            "users": [
                ["name": "u1", "user": ["token": "abc"]],
                ["name": "u3", "user": ["exec": [
                    "apiVersion": "client.authentication.k8s.io/v1beta1",
                    "args": ["a very long argument with spaces that goes over the eighty column limit of go yaml v2 emitter for sure", "123"],
                    "command": "/bin/x", "env": .null, "interactiveMode": "IfAvailable", "provideClusterInfo": false,
                ]]],
            ],
        ]
        XCTAssertEqual(parse(text), expected)
    }

    func testBlockMappingsAndSequences() {
        XCTAssertEqual(parse("a:\n  b:\n    c: d\n  e: f\ng: h\n"), ["a": ["b": ["c": "d"], "e": "f"], "g": "h"])
        // Sequences indented under their key, and at the key's own indentation.
        XCTAssertEqual(parse("a:\n  - x\n  - y\nb:\n- z\n"), ["a": ["x", "y"], "b": ["z"]])
        XCTAssertEqual(parse("- a: 1\n  b: 2\n- c: 3\n"), [["a": "1", "b": "2"], ["c": "3"]])
        XCTAssertEqual(parse("- - a\n  - b\n- c\n"), [["a", "b"], "c"])
        XCTAssertEqual(parse("-\n  a: 1\n-\n- x\n"), [["a": "1"], .null, "x"])
        XCTAssertEqual(parse("- args:\n  - a\n  command: x\n"), [["args": ["a"], "command": "x"]])
        XCTAssertEqual(parse("key:\n  value on its own line\n"), ["key": "value on its own line"])
        XCTAssertEqual(parse("  indented: top\n  level: too\n"), ["indented": "top", "level": "too"])
    }

    func testPlainScalars() {
        XCTAssertEqual(parse("url: https://127.0.0.1:6443/x?y=z#frag\n"), ["url": "https://127.0.0.1:6443/x?y=z#frag"])
        XCTAssertEqual(parse("a: b # comment\nc: d#not-a-comment\n"), ["a": "b", "c": "d#not-a-comment"])
        XCTAssertEqual(parse("a: -x\nb: :y\nc: ?z\nd: x,y[z]{w}\n"), ["a": "-x", "b": ":y", "c": "?z", "d": "x,y[z]{w}"])
        XCTAssertEqual(parse("n: 123\nf: 1.5\ny: yes\ns: some text  \n"), ["n": "123", "f": "1.5", "y": "yes", "s": "some text"])
        XCTAssertEqual(parse("folded: one\n  two\n\n  three\n"), ["folded": "one two\nthree"])
        XCTAssertEqual(parse("- first\n  second # comment\n- third\n"), ["first second", "third"])
    }

    func testNullsAndBooleans() {
        XCTAssertEqual(parse("a: null\nb: ~\nc:\nd: Null\ne: NULL\n"), ["a": .null, "b": .null, "c": .null, "d": .null, "e": .null])
        XCTAssertEqual(parse("a: true\nb: False\nc: TRUE\nd: \"true\"\ne: 'null'\n"),
                       ["a": true, "b": false, "c": true, "d": "true", "e": "null"])
        XCTAssertEqual(parse("- \n-\n"), [.null, .null])
    }

    func testQuotedScalars() {
        XCTAssertEqual(parse("a: 'it''s # not a comment'\nb: ''\n"), ["a": "it's # not a comment", "b": ""])
        XCTAssertEqual(parse(#"a: "tab\tnl\nq\"bs\\sl\/x\x41e\u00e9g\U0001F600z\0b\a\b\e\f\r\v\N\_\L\P\ end""# + "\n"),
                       ["a": "tab\tnl\nq\"bs\\sl/xAeég😀z\u{0}b\u{7}\u{8}\u{1B}\u{C}\r\u{B}\u{85}\u{A0}\u{2028}\u{2029} end"])
        XCTAssertEqual(parse("\"quoted key\": v\n'single': w\n"), ["quoted key": "v", "single": "w"])
        XCTAssertEqual(parse("a: \"x: y # z\" # comment\n"), ["a": "x: y # z"])
    }

    func testQuotedScalarsOverSeveralLines() {
        XCTAssertEqual(parse("a: \"one  \n  two\n\n  three\"\n"), ["a": "one two\nthree"])
        XCTAssertEqual(parse("a: \"one\\\n    two\"\n"), ["a": "onetwo"])
        XCTAssertEqual(parse("a: \"one\\ \n  \\ two\"\n"), ["a": "one   two"])
        XCTAssertEqual(parse("a: 'one\n  two'\n"), ["a": "one two"])
    }

    func testEmptyFlowCollectionsCommentsAndMarkers() {
        XCTAssertEqual(parse("a: {}\nb: []\nc: { }\nd: [ ] # empty\n"),
                       ["a": .object(JSONObject()), "b": [], "c": .object(JSONObject()), "d": []])
        XCTAssertEqual(parse("# head\n---\n# after the marker\na: b\n\n  # indented comment\nc: d\n...\n"), ["a": "b", "c": "d"])
        XCTAssertEqual(parse("--- # comment\na: b\n"), ["a": "b"])
        XCTAssertEqual(parse("\u{FEFF}a: b\r\nc: d\r\n"), ["a": "b", "c": "d"])
        XCTAssertEqual(parse(""), .null)
        XCTAssertEqual(parse("# only a comment\n\n"), .null)
        XCTAssertEqual(parse("a: b\t# tab before a comment\n"), ["a": "b"])
    }

    func testDuplicateKeysAreFoundPerMappingAmongMany() {
        // The check is per mapping: the same key in two mappings is no duplicate.
        let many = (0..<5000).map { "k\($0): v\($0)\n" }.joined()
        guard case .object(let object)? = parse(many + "nested:\n  k1: x\n  \"k2\": y\n") else { return XCTFail("not a mapping") }
        XCTAssertEqual(object.count, 5001)
        XCTAssertEqual(object["k4999"], .string("v4999"))
        assertError(many + "k0: again\n", line: 5001, "duplicate key \"k0\"")
        assertError(many + "'k4999': again\n", line: 5001, "duplicate key \"k4999\"")
        assertError("a:\n  x: 1\n  y: 2\n  \"x\": 3\n", line: 4, "duplicate key \"x\"")
    }

    func testUnsupportedConstructsNameTheirLine() {
        assertError("a: b\nc: &anchor d\n", line: 2, "anchors (&)")
        assertError("a: b\nc: *alias\n", line: 2, "aliases (*)")
        assertError("a: !!str b\n", line: 1, "tags (!)")
        assertError("a: b\nc: |\n  text\n", line: 2, "block scalars")
        assertError("a: >-\n  text\n", line: 1, "block scalars")
        assertError("a: b\nc: {d: e}\n", line: 2, "flow collections")
        assertError("a: [x, y]\n", line: 1, "flow collections")
        assertError("a:\n\tb: c\n", line: 2, "tab")
        assertError("a: b\nc: d\na: e\n", line: 3, "duplicate key \"a\"")
        assertError("a: b\n---\nc: d\n", line: 2, "second document")
        assertError("%YAML 1.2\n---\na: b\n", line: 1, "directives")
        assertError("a:\n    b: c\n  d: e\n", line: 3, "indentation")
        assertError("a: b\n  c: d\n", line: 2, "\": \"")
        assertError("a: b: c\n", line: 1, "\": \"")
        assertError("a: \"open\nb: c\n", line: 2, "indented")
        assertError("a: \"never closed\n", line: 1, "not closed")
        assertError("a: \"\\q\"\n", line: 1, "unknown escape")
        assertError("a: \"\\uD800\"\n", line: 1, "Unicode")
        assertError("? complex\n: key\n", line: 1, "complex keys")
        assertError("--- a\n", line: 1, "content on the --- line")
        assertError("a: - b\n", line: 1, "sequence")
        assertError("a: b\n- c\n", line: 2, "sequence item")
        assertError("a: b\njust text\n", line: 2, "expected `key: value`")
        assertError("a: 'x' y\n", line: 1, "unexpected text after")
        assertError("a: b\n...\nc: d\n", line: 3, "after the document end")
    }

    func testInvalidUTF8NamesItsLine() {
        XCTAssertThrowsError(try YAML.parse(Array("a: b\nc: ".utf8) + [0xFF, 0x0A])) { error in
            XCTAssertEqual(error as? YAMLError, YAMLError(line: 2, reason: "the line is not valid UTF-8"))
        }
    }

    func testDeepNestingIsAnErrorNotACrash() {
        let deep = String(repeating: "- ", count: 200) + "x\n"
        assertError(deep, line: 1, "nested deeper")
    }
}
