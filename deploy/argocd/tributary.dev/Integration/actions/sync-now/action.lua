-- Requests a sync now: the operator acts on a new tributary.dev/sync-requested-at value once
-- (status.lastHandledSyncRequest records it), so each use of the action starts one sync.
if obj.metadata.annotations == nil then
  obj.metadata.annotations = {}
end
obj.metadata.annotations["tributary.dev/sync-requested-at"] = os.date("!%Y-%m-%dT%H:%M:%SZ")
return obj
