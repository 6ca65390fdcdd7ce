# xietong — the two commands: `make demo` and `make test`. Both set up everything on a fresh
# Debian machine with Python 3.11 (a .venv here, apt packages with a clear message).
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000
export XIETONG_HOME ?= $(CURDIR)/var
APT_PACKAGES := chromium fonts-wqy-zenhei tesseract-ocr tesseract-ocr-chi-sim poppler-utils libpango-1.0-0 libpangoft2-1.0-0
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | sha256sum | cut -c1-12)

.PHONY: demo test install apt lint serve clean

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "需要 Python 3.11（$(PYTHON)）"; exit 1; }
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@echo "==> 安装 Python 依赖到 $(VENV)"
	@$(PY) -m pip install -q --upgrade pip
	@$(PY) -m pip install -q -e '.[dev]'
	@rm -f $(VENV)/.installed-*; touch $(STAMP)

install: $(STAMP)

apt:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "==> 安装系统软件包:$$missing（Chromium 浏览器测试、中文字体、Tesseract 中文 OCR）"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null \
	    || { echo "!! apt-get 安装失败:$$missing。请手动安装后重试。"; exit 1; }; \
	fi

demo: install apt
	@$(VENV)/bin/xietong migrate --noinput -v0
	@$(VENV)/bin/xietong demo load --cases $${DEMO_CASES:-300}
	@$(VENV)/bin/xietong ledger integrate >/dev/null
	@echo ""
	@echo "=================================================================="
	@echo " 协同 已启动:  http://127.0.0.1:$(PORT)/"
	@echo " 演示密码（所有演示账号）: $${XIETONG_DEMO_PASSWORD:-xietong-demo-2026}"
	@echo " 演示账号:"
	@echo "   admin              苏州市委政法委 系统管理员（可查看全部案件）"
	@echo "   gusu_police        姑苏分局 民警（承办人）    gusu_police_leader  分局副局长（审批）"
	@echo "   gusu_procu         姑苏区检察院 检察官        gusu_procu_leader   副检察长"
	@echo "   gusu_judge         姑苏区法院 法官            gusu_clerk          书记员"
	@echo "   szzy_judge         苏州中院 法官（二审、假释） gusu_corrections    姑苏区社区矫正管理局"
	@echo "   gusu_jo01_justice_office  平江司法所（报到、矫正）  prison  江苏省苏州监狱   gusu_jail  姑苏区看守所"
	@echo "   committee          政法委督查员（羁押核查、全部预警、同案不同判）  librarian  案例库管理员"
	@echo "   其他区县把 gusu 换成 huqiu wuzhong xiangcheng wujiang sip changshu zjg kunshan taicang"
	@echo " API 文档: http://127.0.0.1:$(PORT)/api/docs/    期限计算器: http://127.0.0.1:$(PORT)/deadlines/"
	@echo "=================================================================="
	@$(VENV)/bin/daphne -b 0.0.0.0 -p $(PORT) xietong.asgi:application

test: install apt
	@bash scripts/test.sh

lint: install
	@$(VENV)/bin/ruff check src tests
	@$(VENV)/bin/mypy

clean:
	rm -rf $(VENV) var .pytest_cache
