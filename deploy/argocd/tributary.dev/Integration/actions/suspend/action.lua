-- Suspends the Integration: no new sync or drift check starts; a running one finishes.
if obj.spec == nil then
  obj.spec = {}
end
obj.spec.suspend = true
return obj
