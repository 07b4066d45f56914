-- wrk script: POST the file named by WRK_BODY_FILE as the body, with WRK_CONTENT_TYPE.
local f = assert(io.open(os.getenv("WRK_BODY_FILE"), "rb"))
wrk.method = "POST"
wrk.body = f:read("*all")
f:close()
wrk.headers["Content-Type"] = os.getenv("WRK_CONTENT_TYPE") or "image/png"
