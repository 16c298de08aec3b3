"""The one e-mail the web layer sends itself: a one-time login link, as text and HTML."""

from workflow.web.rendering import environment


def render_login_mail(*, name: str, link: str, minutes: int) -> tuple[str, str, str]:
    """Subject (one line), text body and HTML body of the login-link e-mail."""
    env = environment()
    context = {"name": name, "link": link, "minutes": minutes}
    text = env.get_template("mail/login_link.txt").render(context)
    html = env.get_template("mail/login_link.html").render(context)
    return "Uw inloglink voor Initiatief", text, html
