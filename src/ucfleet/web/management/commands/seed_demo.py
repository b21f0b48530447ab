from django.core.management.base import BaseCommand, CommandError

from ucfleet.demo import DEMO_PASSWORD, has_data, seed_demo


class Command(BaseCommand):
    help = "Create the demo data (partners, administrators, 60 UC tenants, versions, tasks)."

    def handle(self, *args, **options):
        if has_data():
            raise CommandError("The database already has administrators; demo data not created.")
        credentials = seed_demo()
        print_credentials(self.stdout, credentials)


def print_credentials(out, credentials) -> None:
    out.write(f"Demo administrators (password for all: {DEMO_PASSWORD}):")
    for c in credentials:
        out.write(f"  {c.username:<14} {c.profile}{' — ' + c.partner if c.partner else ''}")
