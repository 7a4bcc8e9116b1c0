#!/bin/sh
# The demo's container: prints a line a second for a few seconds and changes a few files,
# so `silo logs -f` has something to follow and `silo diff` something to show.
echo "hello from $(hostname), running as uid $(id -u)"
mkdir -p /work
for i in 1 2 3 4 5; do
  echo "line $i of 5"
  echo "step $i" >> /work/progress.txt
  sleep 1
done
echo "a warning on stderr" >&2
rm -f /bin/true          # a deletion shows as D in the diff
echo "done" > /tmp/finished
