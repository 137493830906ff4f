"""JUnit XML of a report, for any CI system: one <testcase> per check.

Each check is a test case in class `<assignment>.<function>`; a failed check carries a
<failure> whose message is the first line of its feedback and whose text is all of it. A
fault of the grader is one test case with an <error>. The score is a property of the suite.
Every text passes through `xml_text` (grader/report/escaping.py): no control character but
newline and tab, nothing XML cannot hold, so the document is well-formed whatever the
student's code raised.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from grader.model import Report
from grader.points import format_points
from grader.report.escaping import plain_line, xml_text


def junit_xml(report: Report) -> str:
    failed = [result for result in report.results if not result.passed]
    suite_attributes = {
        "name": report.assignment, "tests": str(len(report.results) or 1),
        "failures": str(len(failed)), "errors": "1" if report.grader_fault else "0",
        "skipped": "0", "time": f"{report.execution_time:.3f}",
    }
    root = ET.Element("testsuites", {**suite_attributes, "name": xml_text(f"{report.assignment}: {plain_line(report.submission)}")})
    suite = ET.SubElement(root, "testsuite", suite_attributes)
    properties = ET.SubElement(suite, "properties")
    ET.SubElement(properties, "property", {"name": "score", "value": format_points(report.score)})
    ET.SubElement(properties, "property", {"name": "max_score", "value": format_points(report.max_score)})
    if report.grader_fault:
        case = ET.SubElement(suite, "testcase", {"classname": f"{report.assignment}.grader", "name": "grading", "time": "0"})
        error = ET.SubElement(case, "error", {"message": xml_text(report.grader_fault[:500]), "type": "GraderFault"})
        error.text = xml_text(report.grader_fault)
    for result in report.results:
        case = ET.SubElement(suite, "testcase", {
            "classname": f"{report.assignment}.{result.function}", "name": xml_text(result.name), "time": f"{result.seconds:.3f}",
        })
        ET.SubElement(case, "properties").append(
            ET.Element("property", {"name": "points", "value": f"{format_points(result.score)}/{format_points(result.max_score)}"}))
        if not result.passed:
            message = xml_text(result.message)
            failure = ET.SubElement(case, "failure", {"message": (message.splitlines() or ["failed"])[0][:500],
                                                      "type": "CheckFailed"})
            failure.text = message
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"
