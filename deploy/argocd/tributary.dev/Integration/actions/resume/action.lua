-- Resumes the Integration: runs start again on schedule.
if obj.spec == nil then
  obj.spec = {}
end
obj.spec.suspend = false
return obj
