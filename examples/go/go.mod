module oomguard.example/gcapp

go 1.19
