"""The text files of the built-in sample distribution: README, ENV, the format note, Tools, analysis reports.

A helper library of :mod:`mk2ds.plugins.synthetic` (no hooks). Texts are Japanese with English where a
reader of either language needs it, written as Windows would: UTF-8 with CRLF line ends. Everything here is
mk2ds's own wording; nothing is copied from the real dataset.
"""

from __future__ import annotations

from collections.abc import Sequence

from mk2ds.plugins.synthetic.generator import ProcessTruth, ScenarioTruth

__all__ = ["analysis_report", "environment", "format_note", "readme", "tools_note", "windows_text"]


def windows_text(text: str) -> bytes:
    """UTF-8 with CRLF line ends and a final line end."""
    return ("\r\n".join(text.strip("\n").split("\n")) + "\r\n").encode("utf-8")


def readme(seed: int, samples: int) -> bytes:
    return windows_text(
        f"""
SolitonDataset2018 形式のサンプル配布物 (mk2ds が生成した合成データ)
======================================================================

このフォルダは `mk2ds sample` (seed {seed}, 検体 {samples} 件) が生成した、Soliton Dataset 2018 と同じ
構成の小さなサンプルです。実際のデータセットではありません。ログ、検体、ラベル、URL はすべて合成した
ものです。検体は実行しても何もしない無害な PE ファイルとスクリプトですが、マルウェア検体と同じ扱い
(実行しない、パスワード付き zip のまま保管する) をしてください。

This folder was written by `mk2ds sample` (seed {seed}, {samples} samples). It has the layout of the
Soliton Dataset 2018, but every file is synthetic: the Mark II logs come from mk2ds's log generator, the
samples are harmless PE files (imports only, a single `ret` as code) and a script that runs nothing, and
the antivirus labels and URLs are illustrative. Use it to try mk2ds (verify, convert, tree, pe) and to
derive test datasets with one defect each.

構成 / Layout
  README.txt          このファイル / this file
  ENV.txt             実行環境の説明 / the (fictional) execution environment
  List.xlsx           検体一覧: No., SHA256, MD5, 拡張子, ラベル, 参照URL, Verboseログ, レポート (○ = あり)
  MK2Log/30m/         検体ごとの 30 分ログ (<sha256>.log)
  MK2Log/Verbose/     詳細出力の 30 分ログ (List.xlsx の Verboseログ が ○ の検体)
  MK2Log/Normal/      検体を投入していない正常環境のログ
  MK2Log/OlympicDestroyer/, Petya/, StoneDrill/, WannaCry/
                      複数端末の実行ログ (端末名.log)
  Format/             ログ形式の説明 / a note on the log format
  impfuzzy/           検体ごとの impfuzzy (PE ファイル以外は 0 バイト)
  PEfile/             検体ごとの pefile dump_info() 出力 (PE ファイル以外は 0 バイト)
  Reports/            ログ解析サンプル (List.xlsx の レポート が ○ の検体)
  Sysinfo/<sha256>/   systeminfo.exe と w32tm.exe の出力 (CP932)。検体に妨害されて 0 バイトのものがあります
  Tools/              元のツールは同梱していません / the original tools are not included
  samples/            検体 (zip, パスワード infected) / the samples, zipped with the password "infected"
  SHA256SUMS          上記すべてのファイルの SHA-256 (`sha256sum -c SHA256SUMS` で検証できます)

注意 / Notes
- ログの時刻は各端末の時計です。ヘッダーに時差 (+0900) のない行を含むログがあります。
- 出力の順序と時刻の順序が前後する行があります (実際の Mark II ログと同様です)。
- 検証: `mk2ds verify <このフォルダ> --samples <このフォルダ>/samples`
"""
    )


def environment() -> bytes:
    return windows_text(
        """
実行環境 (架空) / Execution environment (fictional)
====================================================

一般的な環境 (30m, Verbose, Normal)
- 物理 PC 1 台 (Lenovo ThinkCentre)、Windows 10 Pro バージョン 1607 (ビルド 14393)、日本語版
- InfoTrace Mark II for Cyber の記録を有効にし、検体を D: ドライブに置いてエクスプローラーから起動
- 起動後 30 分間のログを取得 (Verbose は詳細出力で別に実行)
- 検体投入前に systeminfo.exe と w32tm.exe /stripchart の結果を Sysinfo に保存
- 業務を模した操作 (Excel、Word、ブラウザー、メモ帳) を並行して実行

横展開の環境 (OlympicDestroyer, Petya, WannaCry)
- ドメイン LAB.LOCAL、ドメインコントローラー兼ファイルサーバー 172.24.0.1
- 端末 PC1 - PC5 (172.24.1.1 - 172.24.1.5)、プロキシ 172.24.0.9:8080
- 端末ごとにログを取得 (MK2Log/<マルウェア名>/<端末名>.log)
- OlympicDestroyer は 2 時間実行

ネットワーク
- 172.24.0.0/16 の閉じたネットワーク。インターネットには接続していません
"""
    )


def format_note() -> bytes:
    return windows_text(
        """
Mark II ログ形式のメモ (mk2ds による要約) / A note on the Mark II log format
===========================================================================

1 行 = 1 レコード。行末は CR LF (LF も可)。文字コードは UTF-8。

  MM/DD/YYYY HH:MM:SS.mmm +0900 sn=1 evt=ps subEvt=start com="PC1" psGUID={...} psPath="C:\\..." ...

- 先頭は端末の時計による時刻。時差 (+0900) のない行もあります。
- 続いて key=value が 1 個の空白で区切られて並びます。key の順序は決まっていません。
- 値が空白を含む場合は "..." で囲みます。値の中の " は "" と 2 つ重ねます。
  バックスラッシュはエスケープ文字ではありません (C:\\Windows\\ などはそのまま)。
- "" は空文字列、"-" は値なし、0 は 0 という値です。
- evt は種類 (ps, file, reg, net, session, os, win, clip, powerShell, wmi, sys, dev, prt,
  windowsDefender)、subEvt は動作 (start, stop, inject, close, rename, setVal, con, dcon, ...)。
- psGUID は記録側が付けたプロセスの ID、parentGUID は親プロセスの ID です。
- sn はファイル内の通し番号で、増加します (途中が欠けることがあります)。

mk2ds convert でレコードを JSON に、mk2ds tree でプロセスツリーに変換できます。
"""
    )


def tools_note() -> bytes:
    return windows_text(
        """
Tools
=====

元のデータセットに同梱されていたツール (mk2log: ログの JSON 化、mk2tree: プロセスツリー表示) は、
このサンプルには含めていません (再配布しません)。同じ目的には mk2ds を使えます:

  mk2ds convert MK2Log -o json/        ログを JSON Lines に変換 (mk2log の代わり)
  mk2ds tree MK2Log/30m/<sha256>.log   プロセスツリーを表示 (mk2tree の代わり)

The original tools (mk2log, mk2tree) are not redistributed here; `mk2ds convert` and `mk2ds tree` do
their jobs.
"""
    )


def _sample_processes(truth: ScenarioTruth) -> list[ProcessTruth]:
    """Processes of the sample's run: the sample's own, their descendants, and targets of its relations."""
    sample_path = (truth.sample_path or "").lower()
    sha = (truth.sample_sha256 or "").lower()
    ordered = sorted(
        (process for process in truth.processes if process.start_sn is not None),
        key=lambda process: process.start_sn or 0,
    )
    involved = {
        process.guid
        for process in ordered
        if process.path.lower() == sample_path or (sha and sha in process.cmd.lower())
    }
    for _ in range(3):  # relations can link chains that start later; a few rounds reach a fixed point
        for process in ordered:
            if process.parent_guid in involved:
                involved.add(process.guid)
        for relation in truth.relations:
            if relation.source_guid in involved and relation.target_guid and relation.kind != "guard-inject":
                involved.add(relation.target_guid)
    return [process for process in ordered if process.guid in involved]


RELATION_WORDS = {
    "inject": "インジェクション",
    "guard-inject": "インジェクション (防御)",
    "wrote-then-ran": "書き込み後に実行",
    "service": "サービス登録と起動",
}


def analysis_report(truth: ScenarioTruth, log_name: str, family: str, notes: Sequence[str] = ()) -> bytes:
    """A log-analysis example for one sample, written from the log's ground truth (sn references)."""
    processes = _sample_processes(truth)
    names = {process.guid: process.path.rsplit("\\", 1)[-1] for process in truth.processes}
    lines = [
        f"ログ解析サンプル: {truth.sample_sha256}",
        "=" * 76,
        f"対象ログ: {log_name} (端末 {truth.host}, {truth.lines} 行)",
        f"検体: {truth.sample_path} ({family} に類似した動作の合成ログ)",
        "",
        "1. プロセスの流れ (sn はログの通し番号)",
    ]
    for process in processes:
        parent = names.get(process.parent_guid or "", "(記録開始前から実行)")
        stop = f", 終了 sn={process.stop_sn}" if process.stop_sn is not None else ""
        lines.append(f"  sn={process.start_sn}  {parent} → {process.path}{stop}")
        lines.append(f"      psGUID={process.guid}  cmd: {process.cmd}")
    involved = {process.guid for process in processes}
    relations = [
        relation for relation in truth.relations if relation.source_guid in involved or relation.target_guid in involved
    ]
    lines += ["", "2. プロセス間の関係"]
    for relation in relations:
        source = names.get(relation.source_guid, relation.source_guid)
        target = names.get(relation.target_guid or "", "-")
        evidence = f" (根拠 sn={relation.evidence_sn})" if relation.evidence_sn is not None else ""
        detail = f" サービス名 {relation.details['service']}" if "service" in relation.details else ""
        lines.append(
            f"  sn={relation.sn}  {RELATION_WORDS.get(relation.kind, relation.kind)}: {source} → {target}{detail}{evidence}"
        )
    if not relations:
        lines.append("  (なし)")
    lines += ["", "3. 所見", *[f"  - {note}" for note in notes], ""]
    lines.append("このレポートは mk2ds が合成ログの正解データから作成したものです。")
    return windows_text("\n".join(lines))
