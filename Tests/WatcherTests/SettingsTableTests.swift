import Foundation
import XCTest
@testable import Watcher

/// `Settings.table` is the one place each setting is written: these hold `--help`, the
/// defaults and README's table to it.
final class SettingsTableTests: XCTestCase {
    private func parsed(_ arguments: [String], _ environment: [String: String] = [:]) -> Settings? {
        guard case .success(.run(let settings)) = Settings.parse(arguments: arguments, environment: environment) else {
            return nil
        }
        return settings
    }

    func testEveryDefaultThatHelpShowsIsTheRealDefault() throws {
        let help = helpText(version: "0")
        let defaults = try XCTUnwrap(parsed([]))
        for setting in Settings.table {
            for name in setting.names {
                let line = "\(name.env): \(name.help ?? setting.help) (default: \(setting.defaultText))"
                XCTAssertTrue(help.contains(line), "--help lacks \(line)")
            }
            guard setting.defaultIsValue else { continue }
            // The value --help names as the default, given explicitly, changes nothing.
            for name in setting.names {
                XCTAssertEqual(parsed([], [name.env: setting.defaultText]), defaults, "\(name.env)=\(setting.defaultText)")
                for flag in name.flags where flag.hasPrefix("--") {
                    XCTAssertEqual(parsed(["\(flag)=\(setting.defaultText)"]), defaults, "\(flag)=\(setting.defaultText)")
                }
            }
        }
    }

    func testEveryNameAndFlagIsKnownOnce() {
        let envs = Settings.table.flatMap { $0.names.map { $0.env } } + connectionVariableHelp.flatMap { $0.names }
        let flags = Settings.table.flatMap { $0.names.flatMap { $0.flags } }
        XCTAssertEqual(Set(envs).count, envs.count, "an environment name appears twice: \(envs)")
        XCTAssertEqual(Set(flags).count, flags.count, "a flag appears twice: \(flags)")
        XCTAssertFalse(flags.contains("--help") || flags.contains("--version") || flags.contains("-h"))
    }

    /// README's settings table: `| env | flag | default | meaning |`, one row per setting.
    func testReadmeListsEveryVariableFlagAndDefaultAndNoOthers() throws {
        let readme = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("README.md")
        guard let text = try? String(contentsOf: readme, encoding: .utf8) else {
            throw XCTSkip("no README.md beside Tests/")
        }
        let section = try XCTUnwrap(text.components(separatedBy: "\n## Settings\n").dropFirst().first)
        let table = section.components(separatedBy: "\n").drop { !$0.hasPrefix("| env |") }.prefix { $0.hasPrefix("|") }
        var readmeEnvs: Set<String> = []
        var readmeFlags: Set<String> = []
        var readmeDefaults: [String: String] = [:]
        for row in table.dropFirst(2) {
            let cells = row.components(separatedBy: "|")
            readmeEnvs.formUnion(quoted(cells[1]))
            readmeFlags.formUnion(quoted(cells[2]))
            for env in quoted(cells[1]) { readmeDefaults[env] = cells[3].trimmingCharacters(in: .whitespaces) }
        }
        for setting in Settings.table where setting.defaultIsValue {
            for name in setting.names {
                XCTAssertEqual(readmeDefaults[name.env], "`\(setting.defaultText)`", "README's default for \(name.env)")
            }
        }
        let envs = Set(Settings.table.flatMap { $0.names.map { $0.env } } + connectionVariableHelp.flatMap { $0.names })
        let flags = Set(Settings.table.flatMap { $0.names.flatMap { $0.flags } })
        XCTAssertEqual(readmeEnvs.symmetricDifference(envs), [], "README's settings table and Settings.table differ")
        XCTAssertEqual(readmeFlags.symmetricDifference(flags), [], "README's settings table and Settings.table differ")
    }

    /// The words between backquotes: "`A`, `B`" is A and B.
    private func quoted(_ cell: String) -> [String] {
        cell.components(separatedBy: "`").enumerated().filter { $0.offset % 2 == 1 }.map { $0.element }
    }

    func testTheWholeEnvironmentIsRead() {
        let variables = environmentVariables(["A=1", "B=x=y", "A=2", "NO_EQUALS", "EMPTY="])
        XCTAssertEqual(variables, ["A": "1", "B": "x=y", "EMPTY": ""])  // the first A counts, as for getenv
        // Not a setting nor a connection variable, yet read: nothing is left out by a list of names.
        XCTAssertNotNil(environmentVariables(processEnvironment())["PATH"])
    }
}
