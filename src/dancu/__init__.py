"""dancu — the population registry and shared services behind the Project 06 pilot models.

Two layers (see ``docs/architecture.md``):

* ``dancu.blocks``: building blocks (registry, administrative units, organisations, audit …) with
  typed service functions; a block never imports an application.
* ``dancu.apps``: applications for people (staff console, web pages), which use blocks only
  through their service functions and DTOs.
"""

__version__ = "0.1.0"
