"""Pages render for each kind of visitor."""

from tests.conftest import login


def test_public_pages_render(client):
    for url in ("/", "/signup", "/login", "/password/forgot", "/verify/resend"):
        response = client.get(url)
        assert response.status_code == 200, url
        assert b"IPK Research Resource Center" in response.data


def test_staff_pages_render_for_admin(client, factory):
    admin = factory.admin()
    assert login(client, admin.email).status_code == 302
    for url in ("/", "/staff/vetting/", "/admin/users", "/admin/mail", "/admin/audit"):
        assert client.get(url).status_code == 200, url


def test_favicon_is_served_at_both_addresses(client):
    for url in ("/favicon.ico", "/static/favicon.svg"):
        response = client.get(url)
        assert response.status_code == 200
        assert response.mimetype == "image/svg+xml"
        assert response.data.startswith(b"<svg")
        response.close()
    assert 'rel="icon"' in client.get("/").get_data(as_text=True)
