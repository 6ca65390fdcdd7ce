"""``xietong agency-client``: the reference agency client (``feeds.agent``) against a running server."""

from __future__ import annotations

import json
import threading
import time
from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from xietong.feeds.agent import PLAYBOOKS, Agent, Api, ApiError, Feed, reached_prosecution


def _api(url: str, options: dict[str, Any], prefix: str = "") -> Api:
    get = lambda name: options.get(f"{prefix}{name}") or ""  # noqa: E731
    if not get("client_id") and not (get("username") and get("password")):
        flag = prefix.replace("_", "-")
        raise CommandError(
            f"请提供 --{flag}username 与 --{flag}password，或 --{flag}client-id 与 --{flag}client-secret"
        )
    return Api(
        base_url=url,
        username=get("username"),
        password=get("password"),
        client_id=get("client_id"),
        client_secret=get("client_secret"),
    )


class Command(BaseCommand):
    help = (
        "参考接入客户端：模拟公安/检察院业务系统，只用公开 HTTP API——订阅事件流并以流程操作作答。"
        "run：一个系统；demo：公安与检察院两个系统把一起案件从立案办到移送审查起诉"
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="cmd", required=True)
        run = sub.add_parser("run", help="以一个系统的身份运行")
        run.add_argument("--url", default="http://127.0.0.1:8000")
        run.add_argument("--role", choices=sorted(PLAYBOOKS), required=True)
        for flag in ("username", "password", "client-id", "client-secret"):
            run.add_argument(f"--{flag}")
        run.add_argument("--create", action="store_true", help="先立案（公安）")
        run.add_argument("--town-id", type=int, help="立案：案发镇（街道）编号")
        run.add_argument("--case-id", type=int, action="append", help="只办理这些案件（可重复）")
        run.add_argument("--state", type=Path, help="保存游标的文件：重启后从上次位置继续")
        run.add_argument("--from-start", action="store_true", help="从第一条事件开始（默认从现在开始）")
        run.add_argument("--timeout", type=float, default=300.0)
        run.add_argument("--forever", action="store_true", help="一直运行（默认：案件到审查起诉即停）")
        demo = sub.add_parser("demo", help="公安、检察院两个系统协同办完一起案件")
        demo.add_argument("--url", default="http://127.0.0.1:8000")
        for role in ("police", "procu"):
            for flag in ("username", "password", "client-id", "client-secret"):
                demo.add_argument(f"--{role}-{flag}")
        demo.add_argument("--town-id", type=int, required=True)
        demo.add_argument("--timeout", type=float, default=120.0)

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            if options["cmd"] == "run":
                self._run(options)
            else:
                self._demo(options)
        except ApiError as exc:
            raise CommandError(f"{exc.code}: {exc.message}") from exc

    def _agent(self, api: Api, role: str, *, cases: set[int] | None, state: Path | None) -> Agent:
        me = api.login()
        self.stdout.write(f"[{role}] 已登录：{me.get('full_name') or me.get('username')}（{me.get('unit')}）")
        return Agent(
            api=api,
            role=role,
            feed=Feed(api=api, state=state),
            cases=cases,
            name=f"{role}-{me.get('id')}",
            log=self.stdout.write,
        )

    def _run(self, options: dict[str, Any]) -> None:
        api = _api(options["url"], options)
        cases = set(options["case_id"]) if options["case_id"] else (set() if options["create"] else None)
        agent = self._agent(api, options["role"], cases=cases, state=options["state"])
        if not options["from_start"] and not (options["state"] and options["state"].exists()):
            agent.feed.start_at_tail()
        if options["create"]:
            if not options["town_id"]:
                raise CommandError("立案需要 --town-id")
            agent.create_case(town_id=options["town_id"])
        done = threading.Event()
        handle = agent.handle

        def watch(event: dict[str, Any]) -> None:
            handle(event)
            if reached_prosecution(event) and (agent.cases is None or event["case_id"] in agent.cases):
                done.set()

        agent.handle = watch  # type: ignore[method-assign]
        try:
            agent.run(until=lambda: done.is_set() and not options["forever"], timeout=options["timeout"])
        finally:
            api.close()
        self.stdout.write(json.dumps({"acted": len(agent.acted), "cursor": agent.feed.after}))

    def _demo(self, options: dict[str, Any]) -> None:
        police = self._agent(_api(options["url"], options, "police_"), "police", cases=set(), state=None)
        procu = self._agent(_api(options["url"], options, "procu_"), "procuratorate", cases=None, state=None)
        for agent in (police, procu):
            agent.feed.start_at_tail()
        started = time.monotonic()
        case_id = police.create_case(town_id=options["town_id"])
        procu.cases = {case_id}
        finished = threading.Event()
        events: list[dict[str, Any]] = []
        police_handle = police.handle

        def police_watch(event: dict[str, Any]) -> None:
            if event["case_id"] == case_id:
                events.append(event)
            police_handle(event)
            if event["case_id"] == case_id and reached_prosecution(event):
                finished.set()

        police.handle = police_watch  # type: ignore[method-assign]
        errors: list[BaseException] = []

        def play(agent: Agent) -> None:
            try:
                agent.run(until=finished.is_set, timeout=options["timeout"])
            except BaseException as exc:
                errors.append(exc)
                finished.set()

        threads = [threading.Thread(target=play, args=(a,)) for a in (police, procu)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        procu.api.close()
        if errors:
            police.api.close()
            raise CommandError(f"失败：{errors[0]}")
        detail = police.api.get(f"/api/v1/cases/{case_id}")
        police.api.close()
        seconds = time.monotonic() - started
        self.stdout.write(
            f"案件 {detail['number']}：{detail['stage_label']}，{len(events)} 条事件，"
            f"公安 {len(police.acted)} 次操作，检察院 {len(procu.acted)} 次操作，用时 {seconds:.1f} 秒"
        )
        self.stdout.write(
            json.dumps(
                {
                    "case_id": case_id,
                    "stage": detail["stage"],
                    "events": [e["action"] for e in events],
                    "police_acts": len(police.acted),
                    "procuratorate_acts": len(procu.acted),
                    "seconds": round(seconds, 2),
                },
                ensure_ascii=False,
            )
        )
