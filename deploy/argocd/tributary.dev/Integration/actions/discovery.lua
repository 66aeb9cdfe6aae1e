-- Argo CD resource actions of a tributary.dev/v1alpha1 Integration (argocd-cm
-- resource.customizations.actions.tributary.dev_Integration; docs/install.md, "Argo CD").
--
--   sync-now  sets the tributary.dev/sync-requested-at annotation: the operator starts a sync
--             now, whatever the schedule (what `kubectl tributary sync` does); disabled while
--             suspended, when the operator would start nothing
--   suspend   sets spec.suspend to true: no new run starts; disabled while suspended
--   resume    sets spec.suspend to false; disabled unless suspended
--
-- Base and table functions only, like health.lua: no useOpenLibs needed.
local suspended = obj.spec ~= nil and obj.spec.suspend == true
local actions = {}
actions["sync-now"] = { ["iconClass"] = "fa fa-fw fa-play", ["disabled"] = suspended }
actions["suspend"] = { ["iconClass"] = "fa fa-fw fa-pause", ["disabled"] = suspended }
actions["resume"] = { ["iconClass"] = "fa fa-fw fa-play-circle", ["disabled"] = not suspended }
return actions
