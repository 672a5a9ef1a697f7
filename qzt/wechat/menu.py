"""The official account's menu (自定义菜单) as data: what each button opens. Pages that need an account
go through WeChat login first (`login: True`), so that a bound user lands there already logged in."""

MENU = [
    {"name": "机构名录", "endpoint": "directory.listing"},
    {"name": "机构入驻", "endpoint": "onboarding.guide"},
    {
        "name": "我的",
        "sub_button": [
            {"name": "我的咨询", "endpoint": "consultations.index", "login": True},
            {"name": "机构工作台", "endpoint": "consultations.workbench", "login": True},
            {"name": "通知", "endpoint": "auth.notices", "login": True},
        ],
    },
]
