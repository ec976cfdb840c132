{
  "targets": [
    {
      "target_name": "earshot_sealing",
      "sources": ["native/sealing.c"],
      "cflags": ["-O2", "-Wall", "-Wextra", "-Werror"]
    }
  ]
}
