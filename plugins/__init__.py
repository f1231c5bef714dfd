"""mk2ds.plugins: every built-in feature, each a plugin module registered like a third-party one (see mk2ds.core.pluginmanager.BUILTIN_PLUGINS)."""
