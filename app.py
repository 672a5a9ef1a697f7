from qzt import create_app

app = create_app()
