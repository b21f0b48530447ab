from django.core.management.base import BaseCommand, CommandError

from ucfleet.scale_seed import seed_scale


class Command(BaseCommand):
    help = (
        "Fill an empty database with a large platform of realistic spread: partners, scale "
        "units, versions and UC tenants (COPY on PostgreSQL; SQLite works, slower)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--tenants", type=int, required=True, help="number of UC tenants")
        parser.add_argument("--partners", type=int, help="number of partners (default 1 per 2,000)")
        parser.add_argument(
            "--scale-units", type=int, help="number of scale units (default 1 per 5,000)"
        )
        parser.add_argument(
            "--tasks", action="store_true", help="also one finished task per tenant (history)"
        )
        parser.add_argument("--seed", type=int, default=1, help="random seed (deterministic)")

    def handle(self, *args, **options):
        if options["tenants"] < 1 or (options["partners"] is not None and options["partners"] < 1):
            raise CommandError("--tenants and --partners must be positive.")
        try:
            summary = seed_scale(
                tenants=options["tenants"],
                partners=options["partners"],
                scale_units=options["scale_units"],
                tasks=options["tasks"],
                seed=options["seed"],
                progress=lambda text: self.stdout.write(f"  {text}"),
            )
        except ValueError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(
            f"Seeded {summary.tenants} UC tenants of {summary.partners} partners on "
            f"{summary.scale_units} scale units, {summary.versions} versions, "
            f"{summary.tasks} tasks in {summary.seconds:.1f} s."
        )
