"""Layout checks: required files and folders of the profile are present; unexpected top-level entries noted.

Names are matched without regard to case (the dataset was made on Windows); a case difference is reported
as a warning because tools on case-sensitive systems will not find the file.
"""

from __future__ import annotations

from collections.abc import Iterator

from mk2ds.core import CodeInfo, Dataset, Finding, Severity, VerifyContext, hookimpl


@hookimpl
def mk2ds_register_codes() -> list[CodeInfo]:
    return [
        CodeInfo("missing-required", Severity.ERROR, "A file or folder the profile requires is missing"),
        CodeInfo(
            "wrong-type",
            Severity.ERROR,
            "A required path exists but is a file where a folder is expected, or the reverse",
        ),
        CodeInfo("name-case-differs", Severity.WARNING, "A required name exists only with different upper/lower case"),
        CodeInfo("empty-required-file", Severity.ERROR, "A required file that must not be empty is empty"),
        CodeInfo("unexpected-entry", Severity.INFO, "A top-level file or folder the profile does not describe"),
    ]


@hookimpl
def mk2ds_check_dataset(dataset: Dataset, context: VerifyContext) -> Iterator[Finding]:
    files = context.entries
    folders = context.folders
    lower_files = {path.lower(): path for path in files}
    lower_folders = {path.lower(): path for path in folders}
    for item in context.profile.required:
        path, wanted = str(item["path"]), item["type"]
        exact_pool, lower_pool, other_pool = (
            (files, lower_files, lower_folders) if wanted == "file" else (folders, lower_folders, lower_files)
        )
        if path in exact_pool:
            actual = path
        elif path.lower() in lower_pool:
            actual = lower_pool[path.lower()]
            yield Finding(
                "name-case-differs",
                Severity.WARNING,
                f"required {wanted} {path!r} exists as {actual!r}",
                path=actual,
                details={"expected": path},
            )
        elif path.lower() in other_pool:
            found = "folder" if wanted == "file" else "file"
            yield Finding("wrong-type", Severity.ERROR, f"{path!r} should be a {wanted} but is a {found}", path=path)
            continue
        else:
            description = f" ({item['description']})" if item.get("description") else ""
            yield Finding("missing-required", Severity.ERROR, f"required {wanted} is missing{description}", path=path)
            continue
        if wanted == "file" and item.get("may_be_empty") is False and files.get(actual, 0) == 0:
            yield Finding("empty-required-file", Severity.ERROR, "required file is empty", path=actual)

    known = context.profile.known_top_level()
    top_level = sorted({path.split("/", 1)[0] for path in [*files, *folders]})
    for name in top_level:
        if name.lower() not in known:
            yield Finding("unexpected-entry", Severity.INFO, "not described by the profile", path=name)
