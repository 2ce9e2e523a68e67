"""Pure renderers: numbers in, SVG out (badges, charts). Import nothing else of counter."""
